"""Which changes the platform hears of, and how each becomes a webhook event in the change's own transaction.

No workflow emits anything: attribute hooks watch the state of invitations, orders and fax orders and
the status of inbound messages, and every change into a state named in :data:`WATCHED` writes a
:class:`WebhookEvent`, with one :class:`WebhookDelivery` per endpoint that wants it, in the same
transaction. A rolled-back change emits nothing; a committed one is never lost, whatever happens to
Redis or to the worker afterwards (the sweep finds deliveries still due).
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.models import FaxOrder, InboundMessage, Invitation, Order
from workflows.registration.models import Registration
from workflows.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

_PENDING = "torii_webhook_changes"


def _invitation(inv: Invitation) -> dict[str, Any]:
    return {"issuer_company": inv.issuer_company, "partner_company": inv.partner_company,
            "partner_email": inv.partner_email, "contact_person": inv.contact_person, "channel": inv.channel}


def _order(order: Order) -> dict[str, Any]:
    return {"number": order.number, "buyer_id": order.buyer_id, "supplier_id": order.supplier_id,
            "delivery_date": order.delivery_date.isoformat() if order.delivery_date else None,
            "shipped_on": order.shipped_on.isoformat() if order.shipped_on else None, "flag": order.flag}


def _fax_order(fax: FaxOrder) -> dict[str, Any]:
    return {"buyer_id": fax.buyer_id, "order_id": fax.order_id, "inbound_id": fax.inbound_id,
            "reason": fax.reason, "flag": fax.flag}


def _message(msg: InboundMessage) -> dict[str, Any]:
    return {"channel": msg.channel, "kind": msg.kind, "reason": msg.reason, "object_type": msg.object_type,
            "object_id": msg.object_id}


def _registration(reg: Registration) -> dict[str, Any]:
    return {"company_name": reg.company_name, "applicant_email": reg.applicant_email, "channel": reg.channel,
            "company_id": reg.company_id, "wholesaler_company": reg.wholesaler_company, "reason": reg.reason}


@dataclass(frozen=True)
class Watched:
    object_type: str
    attribute: str  # the column whose new values are events
    types: dict[str, str]  # value -> event type
    details: Callable[[Any], dict[str, Any]]


WATCHED: dict[type[Any], Watched] = {
    Invitation: Watched("invitation", "state", {
        state: f"invitation.{state}" for state in ("sent", "approved", "rejected", "held", "undeliverable")},
        _invitation),
    Order: Watched("order", "state", {
        state: f"order.{state}" for state in ("sent", "confirmed", "partially_confirmed", "declined", "shipped",
                                              "delivered", "undeliverable")}, _order),
    FaxOrder: Watched("fax_order", "state", {
        "accepted": "fax_order.placed", "needs_review": "fax_order.needs_review",
        "discarded": "fax_order.discarded"}, _fax_order),
    InboundMessage: Watched("message", "status", {"review": "message.needs_review"}, _message),
    Registration: Watched("registration", "state", {
        state: f"registration.{state}" for state in ("applied", "issued", "rejected", "lapsed", "expired", "existing")},
        _registration),
}

# Every event type there is, in the order the API lists them.
EVENT_TYPES: tuple[str, ...] = tuple(t for watched in WATCHED.values() for t in watched.types.values())


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint's list (``[]`` is everything; ``order.*`` a family) takes ``event_type``."""
    patterns = list(patterns)
    return not patterns or any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns that name no event type: a typo would otherwise subscribe to nothing, silently."""
    return [p for p in patterns if not any(fnmatch.fnmatchcase(t, p) for t in EVENT_TYPES)]


def _note_change(watched: Watched) -> Callable[[Any, Any, Any, Any], None]:
    # Every assignment, so a row that passes through two states before it is flushed (sent, then
    # rejected, in one transaction) emits both events, in order.
    def noted(target: Any, value: Any, old: Any, _initiator: Any) -> None:
        event_type = watched.types.get(value)
        old = old if isinstance(old, str) else None  # a new row's first value replaces no value
        if event_type is not None and value != old:
            inspect(target).info.setdefault(_PENDING, []).append((event_type, value, old))

    return noted


for _model, _watched in WATCHED.items():
    # active_history: the old value is loaded if it was not, so previous_state is never a guess.
    event.listen(getattr(_model, _watched.attribute), "set", _note_change(_watched), active_history=True)


@event.listens_for(Session, "after_flush")
def _collect_changes(session: Session, _flush_context: object) -> None:
    # The rows have their ids now.
    for obj in (*session.new, *session.dirty):
        noted = inspect(obj).info.pop(_PENDING, None) if type(obj) in WATCHED else None
        if noted:
            session.info.setdefault(_PENDING, []).extend((obj, WATCHED[type(obj)], *change) for change in noted)


@event.listens_for(Session, "after_flush_postexec")
def _write_events(session: Session, _flush_context: object) -> None:
    # Rows added here are flushed before the transaction commits (commit flushes until clean).
    changes = session.info.pop(_PENDING, [])
    if not changes:
        return
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled.is_(False))))
    for obj, watched, event_type, value, old in changes:
        now = clock.now()
        data = {"object": watched.object_type, "id": obj.id, watched.attribute: value,
                f"previous_{watched.attribute}": old, **watched.details(obj)}
        body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data},
                          ensure_ascii=False, separators=(",", ":"))
        row = WebhookEvent(msg_id=f"msg_{uuid.uuid4().hex}", type=event_type, object_type=watched.object_type,
                           object_id=obj.id, body=body, created_at=now)
        session.add(row)
        for endpoint in endpoints:
            if matches(endpoint.event_types, event_type):
                session.add(WebhookDelivery(event=row, endpoint_id=endpoint.id, next_attempt_at=now))
