"""The rows of webhooks: where the platform listens, what happened, and each try to tell it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows import clock
from workflows.models import Base


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # not tried yet, or sent again by an operator
    RETRYING = "retrying"  # tried and refused; next_attempt_at says when again
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # every try of the schedule refused, or the endpoint was disabled


class WebhookEndpoint(Base):
    """A URL the platform listens on, and the event types it wants (none listed: all of them)."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    event_types: Mapped[list[Any]] = mapped_column(default=list)  # "order.confirmed", "order.*"; [] is all
    # Signing secrets, "whsec_" + base64 as Standard Webhooks has them. After a rotation the previous one
    # still signs (both signatures are sent) until previous_secret_until, so a receiver can switch calmly.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookEvent(Base):
    """Something the platform may want to hear of, written in the transaction of the change itself.

    ``body`` is the JSON sent, kept as text so every try sends (and signs) the very same bytes, and
    ``msg_id`` is the ``webhook-id``: the same on every try, the receiver's key to drop duplicates.
    """

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_webhook_events_object", "object_type", "object_id"),)


class WebhookDelivery(Base):
    """One event to one endpoint: tried on a schedule until the endpoint takes it or the schedule ends."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # tries in this round ("send again" starts one)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    # A worker trying it holds it until then; past that it is taken to have died mid-try.
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    event: Mapped[WebhookEvent] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),)


class WebhookAttempt(Base):
    """The delivery log: one row per try, kept."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no answer (refused, timed out)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[str] = mapped_column(Text, default="")  # the first characters of the answer's body
