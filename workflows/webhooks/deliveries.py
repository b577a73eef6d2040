"""Deliveries on their schedule: claim one, record how the try went, say when the next is due.

The HTTP request itself is the gateway's (``gateway.webhooks``); what is decided here is the same
whatever made it. A try is claimed for a lease (timeout and a margin) in its own short transaction,
so no database lock is held while an endpoint takes its time, and a worker killed mid-try leaves a
claim that runs out and a delivery the sweep sends again, with the same ``webhook-id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.config import Settings
from workflows.errors import NotFound
from workflows.webhooks.endpoints import signing_secrets
from workflows.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
CLAIM_MARGIN = timedelta(seconds=30)
# A delayed task may be handed over a little before its time by a clock a little ahead.
EARLY = timedelta(seconds=2)
RESPONSE_KEPT = 500  # characters of an endpoint's answer kept in the log


@dataclass(frozen=True)
class Try:
    """What one try needs: where, the bytes, and the id and secrets to sign them with."""

    delivery_id: int
    url: str
    msg_id: str
    body: str
    secrets: tuple[str, ...]
    event_type: str


def claim(session: Session, settings: Settings, delivery_id: int) -> Try | None:
    """The try to make now, or None: already delivered, failed, not yet due, or another worker's."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    now = clock.now()
    if delivery is None or delivery.status not in OPEN or delivery.next_attempt_at > now + EARLY:
        return None
    if delivery.claimed_until is not None and delivery.claimed_until > now:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or endpoint.disabled:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "the endpoint is disabled"
        return None
    delivery.attempts += 1
    delivery.claimed_until = now + timedelta(seconds=settings.webhook_timeout) + CLAIM_MARGIN
    event = delivery.event
    return Try(delivery.id, endpoint.url, event.msg_id, event.body, signing_secrets(endpoint), event.type)


def record(session: Session, settings: Settings, delivery_id: int, *, status_code: int | None, error: str | None,
           duration_ms: int, response: str = "") -> float | None:
    """Log a try and move the delivery on; the seconds until the next try, or None when there is none."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist")
    now = clock.now()
    session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=status_code, error=error,
                               duration_ms=duration_ms, response=response[:RESPONSE_KEPT]))
    delivery.claimed_until = None
    delivery.last_status_code, delivery.last_error = status_code, error
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, None
        return None
    delays = settings.webhook_retry_delays
    if delivery.attempts > len(delays):
        delivery.status = DeliveryStatus.FAILED
        return None
    delay = delays[delivery.attempts - 1]
    delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, now + timedelta(seconds=delay)
    return delay


def send_again(session: Session, delivery_ids: Sequence[int]) -> list[int]:
    """Start a new round of tries now (same event, same ``webhook-id``): an operator's "send again"."""
    now = clock.now()
    deliveries = list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids)).with_for_update()))
    for delivery in deliveries:
        delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
        delivery.claimed_until = None
    return [d.id for d in deliveries]


def failed_ids(session: Session, endpoint_id: int, since: datetime | None = None) -> list[int]:
    query = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id,
                                             WebhookDelivery.status == DeliveryStatus.FAILED)
    if since is not None:
        query = query.where(WebhookDelivery.next_attempt_at >= since)
    return list(session.scalars(query.order_by(WebhookDelivery.id)))


def due_ids(session: Session, before: datetime, limit: int) -> list[int]:
    """Deliveries that should have been tried by ``before`` and are nobody's now: lost by Redis, or by a
    worker that died mid-try."""
    now = clock.now()
    return list(session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status.in_(OPEN), WebhookDelivery.next_attempt_at < before,
               or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
        .order_by(WebhookDelivery.id).limit(limit)))
