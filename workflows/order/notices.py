"""What an order sends: the sheet and notices to the supplier, confirmations to the buyer.

The supplier is reached by its own channel: mail when it has an address, else fax; its
replies come back to the order's reply address whatever its mail client does with Reply-To.
The buyer hears at the address of the business that ordered, as the order keeps it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflows.clock import TOKYO
from workflows.config import Settings
from workflows.faxes import queue_fax
from workflows.letters import pdf_from_html
from workflows.mail import MailAttachment, queue_mail, render_mail
from workflows.models import InboundMessage, Order, OutboundMessage
from workflows.order.records import (
    OBJECT_TYPE,
    lines_of,
    order_sheet,
    ordering_party,
    parties,
    reply_address,
    total_of,
)


def mail_context(session: Session, settings: Settings, order: Order) -> dict[str, Any]:
    _, supplier = parties(session, order)
    buyer = ordering_party(session, order)
    lines = lines_of(session, order)
    return {"order": order, "buyer": buyer, "supplier": supplier, "lines": lines, "total": total_of(lines),
            "confirmed_total": total_of(lines, confirmed=True), "reply_address": reply_address(order, settings),
            "fax_number": settings.fax_number, "ordered_at": order.created_at.astimezone(TOKYO),
            "due_at": order.answer_due_at.astimezone(TOKYO) if order.answer_due_at else None}


def mail_supplier(session: Session, settings: Settings, order: Order, kind: str, *,
                   inbound: InboundMessage | None = None, attach_sheet: bool = False,
                   template: str | None = None) -> OutboundMessage | None:
    _, supplier = parties(session, order)
    buyer = ordering_party(session, order)
    assert supplier.email
    attachments: tuple[MailAttachment, ...] = ()
    if attach_sheet:
        sheet = order_sheet(session, settings, order)
        attachments = (MailAttachment(f"{order.number}.pdf", "application/pdf", sheet.data),)
    return queue_mail(
        session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, template=template, language=order.language,
        context=mail_context(session, settings, order) | {"reminder": kind == "order_reminder"},
        to_addr=supplier.email,
        to_name=supplier.contact_name or supplier.name,
        # Replies come back to the order whatever the supplier's client does with Reply-To.
        from_addr=reply_address(order, settings), from_name=buyer.name, domain=settings.mail_domain,
        reply_to=reply_address(order, settings), in_reply_to=inbound.message_id if inbound else None,
        cause_inbound_id=inbound.id if inbound else None, hourly_limit=settings.mail_hourly_limit,
        attachments=attachments,
    )


def mail_buyer(session: Session, settings: Settings, order: Order, kind: str, *,
                inbound: InboundMessage | None = None) -> None:
    buyer = ordering_party(session, order)  # the business that ordered, when one did (manual 004)
    queue_mail(
        session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, language=buyer.language,
        context=mail_context(session, settings, order), to_addr=buyer.email, to_name=buyer.name,
        from_addr=settings.from_address, from_name="Torii", domain=settings.mail_domain,
        cause_inbound_id=inbound.id if inbound else None, hourly_limit=settings.mail_hourly_limit,
    )


def fax_supplier(session: Session, settings: Settings, order: Order, kind: str, pdf: bytes, title: str, *,
                  inbound: InboundMessage | None = None) -> None:
    _, supplier = parties(session, order)
    assert supplier.fax_number
    queue_fax(session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, number=supplier.fax_number,
              title=title, pdf=pdf, cause_inbound_id=inbound.id if inbound else None)


def send_sheet(session: Session, settings: Settings, order: Order, channel: str) -> None:
    if channel == "fax":
        sheet = order_sheet(session, settings, order)
        fax_supplier(session, settings, order, "order_sheet", sheet.data, f"発注書 {order.number}")
    else:
        mail_supplier(session, settings, order, "order_sheet", attach_sheet=True)


def tell_supplier(session: Session, settings: Settings, order: Order, kind: str, *,
                   inbound: InboundMessage | None = None) -> None:
    """A short notice to the supplier by its own channel: mail when it has an address, else fax."""
    _, supplier = parties(session, order)
    if supplier.email:
        mail_supplier(session, settings, order, kind, inbound=inbound)
    elif supplier.fax_number:
        # A fax-only supplier gets the same notice as a one-page fax, rendered from the mail's HTML.
        rendered = render_mail(kind, order.language, mail_context(session, settings, order))
        fax_supplier(session, settings, order, kind, pdf_from_html(rendered.html), rendered.subject, inbound=inbound)
