"""The REST API the platform drives, and the operator console's first page.

Handlers are plain ``def``: FastAPI runs them on its thread pool, so database
work never blocks the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.catalog_api import catalog_router
from gateway.fax_orders_api import fax_orders_router
from gateway.orders_api import DOCUMENT_KINDS, orders_router
from gateway.runtime import Runtime
from workflows import inbound, invitation
from workflows import order as orders
from workflows.config import Settings
from workflows.credential_answers import current_locks
from workflows.errors import InvalidRequest, NotFound, TransitionRefused
from workflows.mail import TEMPLATES_DIR
from workflows.models import (
    Buyer,
    Document,
    FaxJob,
    FaxOrder,
    InboundMessage,
    InboundStatus,
    Invitation,
    Order,
    OutboundMessage,
    RawBlob,
    Supplier,
)
from workflows.timeline import event_json, timeline

log = logging.getLogger(__name__)

LIST_LIMIT = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def invitation_json(session: Session, settings: Settings, inv: Invitation, *, with_timeline: bool = True
                    ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": inv.id,
        "state": inv.state,
        "channel": inv.channel,
        "approval_required": inv.approval_required,
        "language": inv.language,
        "issuer": {"company": inv.issuer_company, "name": inv.issuer_name, "email": inv.issuer_email},
        "partner": {"company": inv.partner_company, "name": inv.partner_name, "email": inv.partner_email},
        "comment": inv.comment,
        "contact_person": inv.contact_person,
        "fax_number": inv.fax_number,
        "redeemed_at": _iso(inv.redeemed_at),
        "reply_to": invitation.reply_address(inv, settings),
        "created_at": _iso(inv.created_at),
        "updated_at": _iso(inv.updated_at),
    }
    if with_timeline:
        data["timeline"] = [event_json(e) for e in timeline(session, invitation.OBJECT_TYPE, inv.id)]
    return data


def outbound_json(row: OutboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": _iso(row.created_at),
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
        "sent_at": _iso(row.sent_at),
        "last_error": row.last_error,
    }


def fax_json(job: FaxJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "created_at": _iso(job.created_at),
        "object": {"type": job.object_type, "id": job.object_id},
        "kind": job.kind,
        "number": job.number,
        "title": job.title,
        "status": job.status,
        "failure": job.failure,
        "attempts": job.attempts,
        "next_attempt_at": _iso(job.next_attempt_at),
        "transmission_ref": job.transmission_ref,
        "last_error": job.last_error,
    }


def inbound_json(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": _iso(row.received_at),
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
    }


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Torii", version="0.1.0", summary="Email and fax gateway")
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR / "web"))

    def session_dep() -> Iterator[Session]:
        with runtime.db.sessions() as session:
            yield session

    @app.exception_handler(InvalidRequest)
    def _invalid(_request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(TransitionRefused)
    def _refused(_request: Request, exc: TransitionRefused) -> JSONResponse:
        return JSONResponse({"error": exc.reason, "state": exc.state}, status_code=409)

    @app.exception_handler(NotFound)
    def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    app.include_router(catalog_router(runtime))
    app.include_router(orders_router(runtime))
    app.include_router(fax_orders_router(runtime, templates))

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/api/invitations", status_code=201)
    def create_invitation(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            inv = invitation.create(session, runtime.settings, body)
            return invitation_json(session, runtime.settings, inv)

    @app.get("/api/invitations")
    def list_invitations(state: str | None = None, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = select(Invitation).order_by(Invitation.id.desc()).limit(LIST_LIMIT)
        if state:
            query = query.where(Invitation.state == state)
        return [invitation_json(session, runtime.settings, inv, with_timeline=False) for inv in session.scalars(query)]

    @app.get("/api/invitations/{invitation_id}")
    def get_invitation(invitation_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        inv = session.get(Invitation, invitation_id)
        if inv is None:
            raise NotFound(f"invitation {invitation_id} does not exist")
        return invitation_json(session, runtime.settings, inv)

    @app.get("/api/invitations/{invitation_id}/letter")
    def invitation_letter(invitation_id: int, session: Session = Depends(session_dep)) -> Response:
        """The paper letter as sent (fax and postcard invitations)."""
        document = session.scalars(
            select(Document).where(Document.object_type == invitation.OBJECT_TYPE,
                                   Document.object_id == invitation_id, Document.kind == "letter")
            .order_by(Document.id.desc()).limit(1)
        ).first()
        if document is None:
            raise NotFound(f"invitation {invitation_id} has no letter")
        return Response(document.data, media_type=document.content_type,
                        headers={"Content-Disposition": f'inline; filename="{document.filename}"'})

    @app.post("/api/invitations/{invitation_id}/posted")
    def invitation_posted(invitation_id: int) -> dict[str, Any]:
        """A postcard invitation was printed and posted: it counts as sent (issued → sent)."""
        with runtime.db.transaction() as session:
            inv = session.get(Invitation, invitation_id, with_for_update=True)
            if inv is None:
                raise NotFound(f"invitation {invitation_id} does not exist")
            invitation.posted(session, runtime.settings, inv)
            return invitation_json(session, runtime.settings, inv)

    @app.get("/api/fax")
    def list_fax_jobs(object_type: str | None = None, object_id: int | None = None,
                      session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = select(FaxJob).order_by(FaxJob.id.desc()).limit(LIST_LIMIT)
        if object_type:
            query = query.where(FaxJob.object_type == object_type)
        if object_id is not None:
            query = query.where(FaxJob.object_id == object_id)
        return [fax_json(job) for job in reversed(list(session.scalars(query)))]

    @app.get("/api/locks")
    def locks(session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        """Senders and temporary IDs locked after too many wrong credentials."""
        return [{"kind": lock.kind, "who": lock.who, "failures": lock.failures, "until": _iso(lock.until)}
                for lock in current_locks(session, runtime.settings)]

    @app.get("/api/outbox")
    def list_outbox(
        object_type: str | None = None,
        object_id: int | None = None,
        to: str | None = None,
        session: Session = Depends(session_dep),
    ) -> list[dict[str, Any]]:
        query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(LIST_LIMIT)
        if object_type:
            query = query.where(OutboundMessage.object_type == object_type)
        if object_id is not None:
            query = query.where(OutboundMessage.object_id == object_id)
        if to:
            query = query.where(OutboundMessage.to_addr == to)
        return [outbound_json(row) for row in reversed(list(session.scalars(query)))]

    @app.get("/api/outbox/{outbound_id}/raw")
    def outbox_raw(outbound_id: int, session: Session = Depends(session_dep)) -> Response:
        row = session.get(OutboundMessage, outbound_id)
        if row is None:
            raise NotFound(f"outbound message {outbound_id} does not exist")
        return Response(row.raw, media_type="message/rfc822")

    @app.get("/api/messages")
    def list_messages(
        message_id: str | None = None,
        status: str | None = None,
        session: Session = Depends(session_dep),
    ) -> list[dict[str, Any]]:
        query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(LIST_LIMIT)
        if message_id is not None:
            query = query.where(InboundMessage.message_id == message_id.strip().strip("<>").strip())
        if status:
            query = query.where(InboundMessage.status == status)
        return [inbound_json(row) for row in reversed(list(session.scalars(query)))]

    @app.get("/api/messages/{inbound_id}")
    def get_message(inbound_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise NotFound(f"message {inbound_id} does not exist")
        return inbound_json(row) | {"headers": row.headers}

    @app.get("/api/messages/{inbound_id}/raw")
    def message_raw(inbound_id: int, session: Session = Depends(session_dep)) -> Response:
        row = session.get(InboundMessage, inbound_id)
        blob = session.get(RawBlob, row.sha256) if row else None
        if blob is None:
            raise NotFound(f"message {inbound_id} does not exist")
        return Response(blob.data, media_type="message/rfc822")

    @app.get("/api/review")
    def review_queue(session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = select(InboundMessage).where(InboundMessage.status == InboundStatus.REVIEW).order_by(InboundMessage.id)
        return [inbound_json(row) for row in session.scalars(query.limit(LIST_LIMIT))]

    @app.post("/api/messages/{inbound_id}/resolve")
    def resolve_message(inbound_id: int, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Apply ``intent`` with what goes with it: ``contact_person`` for an invitation;
        ``quantities`` ({line position: quantity}) and ``delivery_date`` for an order."""
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

    @app.get("/", response_class=HTMLResponse)
    def console(request: Request, session: Session = Depends(session_dep)) -> Response:
        invitations = list(session.scalars(select(Invitation).order_by(Invitation.id.desc()).limit(100)))
        review = list(session.scalars(
            select(InboundMessage).where(InboundMessage.status == InboundStatus.REVIEW).order_by(InboundMessage.id)
        ))
        messages = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(50)))
        outbox = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(50)))
        return templates.TemplateResponse(
            request,
            "console.html",
            {"invitations": invitations, "review": review, "messages": messages, "outbox": outbox,
             "locks": current_locks(session, runtime.settings),
             "orders": list(session.scalars(select(Order).order_by(Order.id.desc()).limit(100))),
             "buyers": dict(session.execute(select(Buyer.id, Buyer.name)).tuples().all()),
             "suppliers": dict(session.execute(select(Supplier.id, Supplier.name)).tuples().all()),
             "faxes": list(session.scalars(select(FaxJob).order_by(FaxJob.id.desc()).limit(50))),
             "fax_orders": list(session.scalars(select(FaxOrder).order_by(FaxOrder.id.desc()).limit(100)))},
        )

    @app.get("/invitations/{invitation_id}", response_class=HTMLResponse)
    def invitation_page(invitation_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        inv = session.get(Invitation, invitation_id)
        if inv is None:
            raise HTTPException(404, "no such invitation")
        events = timeline(session, invitation.OBJECT_TYPE, inv.id)
        return templates.TemplateResponse(request, "invitation.html", {"inv": inv, "events": events})

    @app.get("/orders/{order_id}", response_class=HTMLResponse)
    def order_page(order_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        found = session.get(Order, order_id)
        if found is None:
            raise HTTPException(404, "no such order")
        return templates.TemplateResponse(request, "order.html", {
            "order": found, "buyer": session.get(Buyer, found.buyer_id),
            "supplier": session.get(Supplier, found.supplier_id), "lines": orders.lines_of(session, found),
            "documents": [k for k in DOCUMENT_KINDS if orders.latest_document(session, found.id, k)],
            "events": timeline(session, orders.OBJECT_TYPE, found.id)})

    return app
