"""The confirmation to the buyer of what was understood, and what the fax order does when it goes or fails.

It goes back the way the order came: by fax to the number it was faxed from, else
by mail. A fax that does not go through is mailed instead; with neither, an
operator is asked to telephone the buyer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import clock
from workflows import order as orders
from workflows.config import Settings
from workflows.fax_order.states import OBJECT_TYPE, fire
from workflows.faxes import queue_fax
from workflows.letters import pdf_from_html
from workflows.mail import queue_mail, render_mail
from workflows.models import Buyer, FaxJob, FaxOrder, FaxStatus, Order, OutboundMessage, OutboundStatus, Supplier
from workflows.timeline import record


def _confirmation_context(session: Session, fax_order: FaxOrder, buyer: Buyer, placed: Order) -> dict[str, Any]:
    supplier = session.get(Supplier, placed.supplier_id)
    lines = orders.lines_of(session, placed)
    return {"buyer": buyer, "supplier": supplier, "order": placed, "fax_order": fax_order,
            "lines": lines, "total": orders.total_of(lines),
            "received_at": fax_order.received_at.astimezone(clock.TOKYO)}


def send_confirmation(session: Session, settings: Settings, fax_order: FaxOrder, buyer: Buyer, placed: Order) -> None:
    """What was understood, back to the buyer: by fax to the number it faxed from, else by mail."""
    number = fax_order.sender_fax or buyer.fax or None
    if not number:
        _mail_confirmation(session, settings, fax_order, buyer, placed)
        return
    rendered = render_mail("fax_order_confirmation", buyer.language,
                           _confirmation_context(session, fax_order, buyer, placed))
    queue_fax(session, object_type=OBJECT_TYPE, object_id=fax_order.id, kind="fax_order_confirmation",
              number=number, title=rendered.subject, pdf=pdf_from_html(rendered.html),
              cause_inbound_id=fax_order.inbound_id)


def _mail_confirmation(session: Session, settings: Settings, fax_order: FaxOrder, buyer: Buyer,
                       placed: Order) -> None:
    queue_mail(session, object_type=OBJECT_TYPE, object_id=fax_order.id, kind="fax_order_confirmation",
               language=buyer.language, context=_confirmation_context(session, fax_order, buyer, placed),
               to_addr=buyer.email, to_name=buyer.name, from_addr=settings.from_address, from_name="Torii",
               domain=settings.mail_domain, cause_inbound_id=fax_order.inbound_id,
               hourly_limit=settings.mail_hourly_limit)


def after_fax(session: Session, settings: Settings, fax_order: FaxOrder, job: FaxJob) -> None:
    if job.kind != "fax_order_confirmation" or fax_order.state != "accepted":
        return
    if job.status == FaxStatus.SENT:
        fire(session, settings, fax_order, "confirmed", f"faxed to {job.number}")
    elif job.status == FaxStatus.FAILED:
        _confirmation_failed(session, settings, fax_order, f"the fax to {job.number} failed ({job.failure})")


def after_delivery(session: Session, settings: Settings, fax_order: FaxOrder, outbound: OutboundMessage) -> None:
    if outbound.kind != "fax_order_confirmation" or fax_order.state != "accepted":
        return
    if outbound.status == OutboundStatus.SENT:
        fire(session, settings, fax_order, "confirmed", f"mailed to {outbound.to_addr}")
    else:
        _confirmation_failed(session, settings, fax_order, f"the mail to {outbound.to_addr} failed")


def _confirmation_failed(session: Session, settings: Settings, fax_order: FaxOrder, how: str) -> None:
    """A fax that did not go through is mailed instead; with neither, an operator calls the buyer."""
    buyer = session.get(Buyer, fax_order.buyer_id) if fax_order.buyer_id else None
    already_mailed = session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.object_type == OBJECT_TYPE, OutboundMessage.object_id == fax_order.id,
        OutboundMessage.kind == "fax_order_confirmation").limit(1)) is not None
    placed = session.get(Order, fax_order.order_id) if fax_order.order_id is not None else None
    if buyer is not None and buyer.email and not already_mailed and placed is not None:
        _mail_confirmation(session, settings, fax_order, buyer, placed)
        record(session, OBJECT_TYPE, fax_order.id, "fallback", f"{how}; the confirmation goes by mail")
        return
    fax_order.flag = f"{how}: tell the buyer by phone that the order was taken"
    record(session, OBJECT_TYPE, fax_order.id, "flagged", fax_order.flag)
