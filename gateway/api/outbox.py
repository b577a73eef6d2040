"""The mail outbox over HTTP: every message the gateway sent or is sending, and its raw bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, about_object, binary_answer, iso, session_dependency
from workflows.access import get_visible, visible
from workflows.models import OutboundMessage

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def outbound_json(row: OutboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "channel": row.channel,
        "kind": row.kind,
        "object": {"type": row.object_type, "id": row.object_id},
        "to": row.to_addr,
        "subject": row.subject,
        "reply_to": row.reply_to,
        "message_id": row.message_id,
        "text": row.text,
        "status": row.status,
        "attempts": row.attempts,
        "sent_at": iso(row.sent_at),
        "last_error": row.last_error,
    }


def outbox_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/api/outbox")
    def list_outbox(
        object_type: str | None = None,
        object_id: int | None = None,
        to: str | None = None,
        session: Session = Depends(session_dep),
        *,
        me: Me,
    ) -> list[dict[str, Any]]:
        query = about_object(visible(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(LIST_LIMIT),
                                     OutboundMessage, me), OutboundMessage, object_type, object_id)
        if to:
            query = query.where(OutboundMessage.to_addr == to)
        return [outbound_json(row) for row in reversed(list(session.scalars(query)))]

    @router.get("/api/outbox/{outbound_id}/raw", **binary_answer("message/rfc822"))
    def outbox_raw(outbound_id: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        row = get_visible(session, OutboundMessage, outbound_id, "outbound message", me)
        return Response(row.raw, media_type="message/rfc822")

    return router
