"""The audit timeline: every message in or out, every transition and refusal, in order, and who did it.

Who is whoever the request was made by: the web layer sets :data:`ACTOR` once per request (an operator
or an API token), and every event recorded while it is set carries it; workers leave it unset, so what
Torii did on its own, or a partner's message caused, has no actor.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Event

ACTOR: ContextVar[str | None] = ContextVar("torii_actor", default=None)


def record(
    session: Session,
    object_type: str,
    object_id: int,
    kind: str,
    summary: str,
    *,
    inbound_id: int | None = None,
    outbound_id: int | None = None,
    fax_job_id: int | None = None,
    **data: Any,
) -> Event:
    event = Event(
        object_type=object_type,
        object_id=object_id,
        kind=kind,
        summary=summary,
        data=data,
        inbound_id=inbound_id,
        outbound_id=outbound_id,
        fax_job_id=fax_job_id,
        actor=ACTOR.get(),
    )
    session.add(event)
    return event


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "summary": event.summary,
        "actor": event.actor,
        "inbound_id": event.inbound_id,
        "outbound_id": event.outbound_id,
        "fax_job_id": event.fax_job_id,
        "data": event.data,
    }


def timeline(session: Session, object_type: str, object_id: int) -> list[Event]:
    query = (
        select(Event)
        .where(Event.object_type == object_type, Event.object_id == object_id)
        .order_by(Event.id)
    )
    return list(session.scalars(query))
