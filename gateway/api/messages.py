"""Inbound messages over HTTP: what arrived by mail or fax, its raw bytes, the review queue, and resolving it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, binary_answer, iso, session_dependency
from gateway.intake import header_text
from workflows import inbound
from workflows.access import get_visible, visible
from workflows.errors import InvalidRequest, NotFound
from workflows.models import FOR_OPERATOR, InboundMessage, RawBlob

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def inbound_json(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": iso(row.received_at),
        "channel": row.channel,
        "message_id": row.message_id,
        "mail_from": row.mail_from,
        "from": row.from_addr,
        "to": row.rcpt_tos,
        "subject": row.subject,
        "size": row.size,
        "sha256": row.sha256,
        "status": row.status,
        "kind": row.kind,
        "reason": row.reason,
        "object": {"type": row.object_type, "id": row.object_id} if row.object_type else None,
        "parse": row.parse,
        "attempts": row.attempts,  # times a worker began processing it (workflows.inbound.attempts)
    }


def messages_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/api/messages")
    def list_messages(
        message_id: str | None = None,
        status: str | None = None,
        session: Session = Depends(session_dep),
        *,
        me: Me,
    ) -> list[dict[str, Any]]:
        query = visible(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(LIST_LIMIT),
                        InboundMessage, me)
        if message_id is not None:
            query = query.where(InboundMessage.message_id == message_id.strip().strip("<>").strip())
        if status:
            query = query.where(InboundMessage.status == status)
        return [inbound_json(row) for row in reversed(list(session.scalars(query)))]

    @router.get("/api/messages/{inbound_id}")
    def get_message(inbound_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        row = get_visible(session, InboundMessage, inbound_id, "message", me)
        blob = session.get(RawBlob, row.sha256)
        return inbound_json(row) | {"headers": header_text(blob.data) if blob is not None else ""}

    @router.get("/api/messages/{inbound_id}/raw", **binary_answer("message/rfc822"))
    def message_raw(inbound_id: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        row = get_visible(session, InboundMessage, inbound_id, "message", me)
        blob = session.get(RawBlob, row.sha256)
        if blob is None:
            raise NotFound(f"message {inbound_id} does not exist")
        return Response(blob.data, media_type="message/rfc822")

    @router.get("/api/review")
    def review_queue(me: Me, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = (visible(select(InboundMessage), InboundMessage, me)
                 .where(InboundMessage.status.in_(FOR_OPERATOR)).order_by(InboundMessage.id))
        return [inbound_json(row) for row in session.scalars(query.limit(LIST_LIMIT))]

    @router.post("/api/messages/{inbound_id}/resolve")
    def resolve_message(inbound_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Apply ``intent`` with what goes with it: ``contact_person`` for an invitation;
        ``quantities`` ({line position: quantity}) and ``delivery_date`` for an order."""
        with runtime.db.sessions() as session:
            get_visible(session, InboundMessage, inbound_id, "message", me)
        intent = body.get("intent")
        if not isinstance(intent, str):
            raise InvalidRequest("intent is required")
        contact = body.get("contact_person")
        if contact is not None and not isinstance(contact, str):
            raise InvalidRequest("contact_person must be a string")
        details: dict[str, object] = {key: body[key] for key in ("contact_person", "quantities", "delivery_date")
                                      if key in body}
        row = inbound.resolve(runtime.db, runtime.settings, inbound_id, intent, details)
        return inbound_json(row)

    @router.post("/api/messages/{inbound_id}/dismiss")
    def dismiss_message(inbound_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        """Not an answer: ``{"reason": "..."}``; the message leaves review as ``ignored``, nothing changes."""
        with runtime.db.sessions() as session:
            get_visible(session, InboundMessage, inbound_id, "message", me)
        return inbound_json(inbound.dismiss(runtime.db, inbound_id, str((body or {}).get("reason") or "")))

    return router
