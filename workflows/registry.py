"""Which workflow owns which object type: the one place that maps names to workflows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.order_reply.answer import LineRef
from workflows import fax_order, invitation, order, registration
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.machine import Machine
from workflows.models import Base, FaxJob, FaxOrder, Invitation, Order, OrderLine, OutboundMessage, Supplier
from workflows.registration import Registration


@dataclass(frozen=True)
class WorkflowSpec:
    object_type: str
    model: type[Base]
    machine: Machine[object]
    after_delivery: Callable[[Session, Settings, Any, OutboundMessage], None]
    # Applies an answer read from a reply (or decided by an operator): (session, settings, obj, trigger,
    # inbound=..., details=the reading's data).
    answer: Callable[..., None]
    answers: frozenset[str]  # the triggers a reply (or an operator deciding one) may fire
    # Who may answer by mail: the address (or its domain) replies must come from; None: nobody by mail.
    expected_sender: Callable[[Session, Any], str | None]
    answerer: str  # who that is, in a reason: "the invited partner"
    # What the reply parser needs to know of the object beyond its type.
    reply_context: Callable[[Session, Any], dict[str, Any]] = lambda _session, _obj: {}
    after_fax: Callable[[Session, Settings, Any, FaxJob], None] | None = None


def _supplier_email(session: Session, obj: Order) -> str | None:
    supplier = session.get(Supplier, obj.supplier_id)
    return supplier.email if supplier else None


def _order_reply_context(session: Session, obj: Order) -> dict[str, Any]:
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == obj.id).order_by(OrderLine.position))
    return {"order_lines": tuple(LineRef(line.position, line.product_name, line.quantity, line.unit)
                                 for line in lines)}


def _answered_by_accepting(*_args: Any, **_kwargs: Any) -> None:
    raise InvalidRequest("a fax order is corrected and accepted with POST /api/fax-orders/{id}/accept")


WORKFLOWS: dict[str, WorkflowSpec] = {
    invitation.OBJECT_TYPE: WorkflowSpec(
        object_type=invitation.OBJECT_TYPE,
        model=Invitation,
        machine=invitation.MACHINE,  # type: ignore[arg-type]
        after_delivery=invitation.after_delivery,
        answer=invitation.answer,
        answers=frozenset({"approve", "reject", "hold"}),
        expected_sender=lambda _session, inv: inv.partner_email or None,
        answerer="the invited partner",
        after_fax=invitation.after_fax,
    ),
    order.OBJECT_TYPE: WorkflowSpec(
        object_type=order.OBJECT_TYPE,
        model=Order,
        machine=order.MACHINE,  # type: ignore[arg-type]
        after_delivery=order.after_delivery,
        answer=order.answer,
        answers=order.ANSWERS,
        expected_sender=_supplier_email,
        answerer="the supplier",
        reply_context=_order_reply_context,
        after_fax=order.after_fax,
    ),
    fax_order.OBJECT_TYPE: WorkflowSpec(
        object_type=fax_order.OBJECT_TYPE,
        model=FaxOrder,
        machine=fax_order.MACHINE,  # type: ignore[arg-type]
        after_delivery=fax_order.after_delivery,
        answer=_answered_by_accepting,
        answers=frozenset(),  # reviewed fax orders are corrected and accepted through /api/fax-orders
        expected_sender=lambda _session, _obj: None,
        answerer="nobody: fax orders are not answered by mail",
        after_fax=fax_order.after_fax,
    ),
    registration.OBJECT_TYPE: WorkflowSpec(
        object_type=registration.OBJECT_TYPE,
        model=Registration,
        machine=registration.MACHINE,  # type: ignore[arg-type]
        after_delivery=registration.after_delivery,
        answer=registration.answer,
        answers=registration.ANSWERS,
        expected_sender=registration.expected_sender,
        answerer="the applicant (its application) or its wholesaler's contact (the approval)",
        reply_context=registration.reply_context,
    ),
}


def load_object(session: Session, object_type: str, object_id: int, *, lock: bool = False) -> Any | None:
    spec = WORKFLOWS.get(object_type)
    if spec is None:
        return None
    return session.get(spec.model, object_id, with_for_update=lock)


def find_by_reply_token(session: Session, tokens: Sequence[str]) -> tuple[str, int] | None:
    """The object a reply address (``reply+TOKEN@``) names, whichever workflow it belongs to."""
    for spec in WORKFLOWS.values():
        column = getattr(spec.model, "reply_token", None)
        if column is None:
            continue
        found = session.scalar(select(spec.model.id).where(column.in_(tokens)).limit(1))  # type: ignore[attr-defined]
        if found is not None:
            return spec.object_type, found
    return None


def after_fax(session: Session, settings: Settings, job: FaxJob) -> None:
    """Tell the fax job's workflow how its attempt ended."""
    spec = WORKFLOWS.get(job.object_type)
    if spec is None or spec.after_fax is None:
        return
    obj = load_object(session, job.object_type, job.object_id, lock=True)
    if obj is not None:
        spec.after_fax(session, settings, obj, job)
