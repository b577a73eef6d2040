"""The review screens: what the gateway could not decide on its own, and the pages an operator decides it on.

    GET /review                  the queue: messages in review and fax orders to review, oldest first
    GET /messages/{id}           one inbound message: what it says (the quoted part greyed), what the
                                 parser proposed, and, while it is in review, the answers its object takes
    GET /fax-orders/{id}         a fax order: the page image with the fields read over it, each field
                                 editable, and Accept / Discard while it needs review

The pages only show; deciding goes through the API (``/api/messages/{id}/resolve``,
``/api/fax-orders/{id}/accept`` and ``/discard``) from ``static/review.js``, so the console and the
API answer alike. A message about a fax order is reviewed on the fax order's screen, so the queue
lists the fax order, not the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.api.fax_orders import fax_order_json
from gateway.api.shared import Me, session_dependency
from gateway.console.pages import paginate, render
from parsers.mime.parse import parse_mail
from parsers.normalize import normalize_text
from parsers.quotes import reply_text
from workflows import fax_order as fax_orders
from workflows import order as orders
from workflows.access import Level, get_visible, visible
from workflows.models import (
    FOR_OPERATOR,
    Buyer,
    FaxOrder,
    InboundMessage,
    Invitation,
    Order,
    OutboundMessage,
    Product,
    RawBlob,
    Supplier,
)
from workflows.registry import WORKFLOWS, load_object
from workflows.timeline import timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime
    from parsers.mime.parsed_mail import ParsedMail

NEEDS_REVIEW = "needs_review"
# A mail longer than this is shown cut (the raw message is one link away).
MAX_SHOWN_TEXT = 200_000

# What each answer is called on its button.
INTENT_LABELS = {
    "approve": "承認 / Approve",
    "reject": "非承認 / Reject",
    "hold": "保留 / Hold",
    "confirm": "受注確定 / Confirm",
    "partial": "一部確定 / Partly confirm",
    "decline": "受注不可 / Decline",
}


@dataclass(frozen=True)
class MailPart:
    """A run of lines of a mail: what the sender newly wrote, or what the reply reader left out."""

    text: str
    quoted: bool


def mail_parts(text: str, answer: str) -> list[MailPart]:
    """The mail's text in runs, each marked whether it is part of ``answer`` (``parsers.quotes.reply_text``).

    The answer's lines are found in the text in order; every other line (a ``>`` quote, the original
    under an "-----Original Message-----" or "On … wrote:" line, a signature, our own text copied
    back) is quoted. Blank lines go with the run they follow.
    """
    wanted = [line.strip() for line in answer.split("\n") if line.strip()]
    parts: list[tuple[bool, list[str]]] = []
    found = 0
    for line in normalize_text(text).split("\n"):
        if not line.strip():
            quoted = parts[-1][0] if parts else False
        elif found < len(wanted) and line.strip() == wanted[found]:
            quoted, found = False, found + 1
        else:
            quoted = True
        if parts and parts[-1][0] == quoted:
            parts[-1][1].append(line)
        else:
            parts.append((quoted, [line]))
    return [MailPart("\n".join(lines), quoted) for quoted, lines in parts]


def proposal_of(parse: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the reader proposed, as stored in ``InboundMessage.parse`` by a reply parser or a fax reading."""
    if not parse:
        return None
    if isinstance(parse.get("data"), dict):
        data = parse["data"]
        return {"source": parse.get("parser") or "reply", "intent": data.get("intent"),
                "confidence": parse.get("confidence"), "reasons": list(parse.get("reasons") or []),
                "contact_person": data.get("contact_person"), "quantities": dict(data.get("quantities") or {}),
                "delivery_date": data.get("delivery_date"), "evidence": data.get("evidence")}
    if isinstance(parse.get("fax"), dict):
        fax = parse["fax"]
        return {"source": "fax", "intent": fax.get("answer"), "confidence": fax.get("confidence"),
                "reasons": list(fax.get("reasons") or []), "contact_person": fax.get("contact_text"),
                "quantities": dict(fax.get("quantities") or {}), "delivery_date": fax.get("delivery_date"),
                "evidence": None}
    return None


def _object_link(session: Session, object_type: str | None, object_id: int | None) -> dict[str, Any] | None:
    if not object_type or not object_id:
        return None
    found = load_object(session, object_type, object_id)
    if isinstance(found, Invitation):
        return {"href": f"/invitations/{found.id}", "label": f"INV-{found.id}", "state": found.state}
    if isinstance(found, Order):
        return {"href": f"/orders/{found.id}", "label": found.number, "state": found.state}
    if isinstance(found, FaxOrder):
        return {"href": f"/fax-orders/{found.id}", "label": f"FAX-{found.id}", "state": found.state}
    return {"href": None, "label": f"{object_type} {object_id}", "state": None}


def _mail_of(session: Session, row: InboundMessage) -> ParsedMail | None:
    blob = session.get(RawBlob, row.sha256)
    return parse_mail(blob.data) if blob is not None else None


def _answer_of(session: Session, row: InboundMessage, mail: ParsedMail) -> str:
    """The reply's new text, read the way the inbound pipeline read it (against the mails we sent)."""
    known: tuple[str, ...] = ()
    if row.object_type and row.object_id:
        known = tuple(session.scalars(select(OutboundMessage.text).where(
            OutboundMessage.object_type == row.object_type, OutboundMessage.object_id == row.object_id)))
    return reply_text(mail, known)


def review_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/review", response_class=HTMLResponse)
    def review_queue(request: Request, me: Me, page: int = 1, fax_page: int = 1,
                     session: Session = Depends(session_dep)) -> Response:
        messages = (visible(select(InboundMessage), InboundMessage, me)
                    .where(InboundMessage.status.in_(FOR_OPERATOR),
                           or_(InboundMessage.object_type.is_(None),
                               InboundMessage.object_type != fax_orders.OBJECT_TYPE))
                    .order_by(InboundMessage.received_at, InboundMessage.id))
        faxes = (visible(select(FaxOrder), FaxOrder, me).where(FaxOrder.state == NEEDS_REVIEW)
                 .order_by(FaxOrder.received_at, FaxOrder.id))
        message_page = paginate(session, messages, page)
        fax_order_page = paginate(session, faxes, fax_page)
        return render(request, "review.html", {
            "messages": message_page, "fax_orders": fax_order_page,
            "objects": {row.id: _object_link(session, row.object_type, row.object_id) for row in message_page.rows},
            "buyers": {b.id: b.name for b in session.scalars(visible(select(Buyer), Buyer, me))}})

    @router.get("/messages/{inbound_id}", response_class=HTMLResponse)
    def message_page(inbound_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                     ) -> Response:
        row = get_visible(session, InboundMessage, inbound_id, "message", me)
        mail = _mail_of(session, row)
        text = mail.text if mail is not None else ""
        parts = mail_parts(text[:MAX_SHOWN_TEXT], _answer_of(session, row, mail)) if mail is not None else []
        spec = WORKFLOWS.get(row.object_type or "")
        obj = load_object(session, spec.object_type, row.object_id) if spec and row.object_id else None
        intents: list[dict[str, Any]] = []
        if spec is not None and obj is not None and row.status in FOR_OPERATOR:
            for intent in sorted(spec.answers):
                refusal = spec.machine.refusal_for(obj.state, intent)
                allowed = spec.machine.allows(obj.state, intent)
                intents.append({"name": intent, "label": INTENT_LABELS.get(intent, intent), "allowed": allowed,
                                "why_not": None if allowed else (refusal.reason if refusal else
                                                                 f"not possible while {obj.state}")})
        return render(request, "message.html", {
            "row": row, "mail": mail, "parts": parts, "cut": len(text) > MAX_SHOWN_TEXT,
            "proposal": proposal_of(row.parse), "object": _object_link(session, row.object_type, row.object_id),
            "intents": intents,
            # A fax order's own message is decided on the fax order's screen; any other may be dismissed.
            "may_decide": me.may(Level.WRITE) and row.status in FOR_OPERATOR
            and row.object_type != fax_orders.OBJECT_TYPE,
            "order_lines": orders.lines_of(session, obj) if isinstance(obj, Order) else []})

    @router.get("/fax-orders/{fax_order_id}", response_class=HTMLResponse)
    def fax_order_page(fax_order_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                       ) -> Response:
        found = get_visible(session, FaxOrder, fax_order_id, "fax order", me)
        products = list(session.scalars(select(Product).where(Product.supplier_id == found.supplier_id)
                                        .order_by(Product.id))) if found.supplier_id else []
        return render(request, "fax_order.html", {
            "fax": fax_order_json(session, found, with_timeline=False), "received_at": found.received_at,
            "buyer": session.get(Buyer, found.buyer_id) if found.buyer_id else None,
            "supplier": session.get(Supplier, found.supplier_id) if found.supplier_id else None,
            "products": products, "bar": runtime.settings.min_confidence,
            "may_decide": me.may(Level.WRITE) and found.state == NEEDS_REVIEW,
            "events": timeline(session, fax_orders.OBJECT_TYPE, found.id)})

    return router
