"""After the sheet goes out: its delivery reported, a fallback the other way, and reminders.

A fax that fails after its retries falls back to mail when the supplier has an address
(and a failed mail to fax); with no other way the order is flagged for an operator. No
answer by ``answer_due_at``: the supplier is reminded and the buyer told, once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.clock import TOKYO
from workflows.config import Settings
from workflows.models import FaxJob, FaxStatus, Order, OutboundMessage, OutboundStatus
from workflows.order.notices import fax_supplier, mail_buyer, mail_supplier, send_sheet
from workflows.order.records import OBJECT_TYPE, order_sheet, parties
from workflows.order.states import MACHINE, fire
from workflows.timeline import record


def _sheet_sent(session: Session, settings: Settings, order: Order) -> None:
    if MACHINE.allows(order.state, "sent"):
        fire(session, settings, order, "sent")


def _mailed_sheet(session: Session, order: Order) -> bool:
    return session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.object_type == OBJECT_TYPE, OutboundMessage.object_id == order.id,
        OutboundMessage.kind == "order_sheet").limit(1)) is not None


def _faxed_sheet(session: Session, order: Order) -> bool:
    return session.scalar(select(FaxJob.id).where(
        FaxJob.object_type == OBJECT_TYPE, FaxJob.object_id == order.id, FaxJob.kind == "order_sheet").limit(1)
    ) is not None


def _sheet_failed(session: Session, settings: Settings, order: Order, how: str) -> None:
    """The sheet did not get through one way: try the other way once, else flag the order for an operator."""
    _, supplier = parties(session, order)
    if supplier.email and not _mailed_sheet(session, order):
        record(session, OBJECT_TYPE, order.id, "fallback", f"{how}; sending the order sheet by mail instead")
        send_sheet(session, settings, order, "mail")
    elif supplier.fax_number and not _faxed_sheet(session, order):
        record(session, OBJECT_TYPE, order.id, "fallback", f"{how}; sending the order sheet by fax instead")
        send_sheet(session, settings, order, "fax")
    elif MACHINE.allows(order.state, "undeliverable"):
        record(session, OBJECT_TYPE, order.id, "flagged", f"{how}; no other way to reach {supplier.name}")
        fire(session, settings, order, "undeliverable")


def after_fax(session: Session, settings: Settings, order: Order, job: FaxJob) -> None:
    if job.kind != "order_sheet" or job.status not in (FaxStatus.SENT, FaxStatus.FAILED):
        return
    if job.status == FaxStatus.SENT:
        _sheet_sent(session, settings, order)
    else:
        _sheet_failed(session, settings, order, f"the fax to {job.number} failed ({job.failure})")


def after_delivery(session: Session, settings: Settings, order: Order, outbound: OutboundMessage) -> None:
    if outbound.kind != "order_sheet":
        return
    if outbound.status == OutboundStatus.SENT:
        _sheet_sent(session, settings, order)
    else:
        _sheet_failed(session, settings, order, f"the mail to {outbound.to_addr} failed")


def overdue_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(select(Order.id).where(
        Order.state.in_(("placed", "sent")), Order.reminded_at.is_(None), Order.answer_due_at <= now,
    ).order_by(Order.id).limit(limit)))


def remind(session: Session, settings: Settings, order: Order) -> bool:
    """No answer by the deadline: remind the supplier, tell the buyer, flag the order. Once per order."""
    now = clock.now()
    if order.state not in ("placed", "sent") or order.reminded_at is not None or order.answer_due_at is None \
            or order.answer_due_at > now:
        return False
    order.reminded_at = now
    order.flag = "no answer from the supplier by " + order.answer_due_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    record(session, OBJECT_TYPE, order.id, "overdue", order.flag)
    _, supplier = parties(session, order)
    if supplier.email:
        mail_supplier(session, settings, order, "order_reminder", attach_sheet=True, template="order_sheet")
    else:
        sheet = order_sheet(session, settings, order)
        fax_supplier(session, settings, order, "order_reminder", sheet.data, f"【再送】発注書 {order.number}")
    mail_buyer(session, settings, order, "order_overdue")
    return True
