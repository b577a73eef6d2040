"""Which workflow owns which object type: the one place that maps names to workflows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.models import Base, FaxJob, Invitation, OutboundMessage
from workflows import invitation
from workflows.machine import Machine


@dataclass(frozen=True)
class WorkflowSpec:
    object_type: str
    model: type[Base]
    machine: Machine[object]
    after_delivery: Callable[[Session, Settings, object, OutboundMessage], None]
    fire: Callable[..., None]
    answers: frozenset[str]  # the triggers a reply (or an operator deciding one) may fire
    after_fax: Callable[[Session, Settings, object, FaxJob], None] | None = None


WORKFLOWS: dict[str, WorkflowSpec] = {
    invitation.OBJECT_TYPE: WorkflowSpec(
        object_type=invitation.OBJECT_TYPE,
        model=Invitation,
        machine=invitation.MACHINE,  # type: ignore[arg-type]
        after_delivery=invitation.after_delivery,  # type: ignore[arg-type]
        fire=invitation.fire,
        answers=frozenset({"approve", "reject", "hold"}),
        after_fax=invitation.after_fax,  # type: ignore[arg-type]
    ),
}


def load_object(session: Session, object_type: str, object_id: int, *, lock: bool = False) -> object | None:
    spec = WORKFLOWS.get(object_type)
    if spec is None:
        return None
    return session.get(spec.model, object_id, with_for_update=lock)


def after_fax(session: Session, settings: Settings, job: FaxJob) -> None:
    """Tell the fax job's workflow how its attempt ended."""
    spec = WORKFLOWS.get(job.object_type)
    if spec is None or spec.after_fax is None:
        return
    obj = load_object(session, job.object_type, job.object_id, lock=True)
    if obj is not None:
        spec.after_fax(session, settings, obj, job)
