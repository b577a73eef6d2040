"""The audit timeline: every message in or out, every transition and refusal, in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Event


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
    )
    session.add(event)
    return event


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "summary": event.summary,
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
