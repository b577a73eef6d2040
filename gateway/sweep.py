"""The sweep: work the database says is pending but Redis may have lost.

A task can vanish (Redis restarted empty, a worker killed before it acknowledged,
an enqueue that failed after a commit). The database is the truth: rows still
``received`` or ``queued``, or ``sending`` past their lease, are enqueued again.
Enqueuing twice is harmless because every task is idempotent.

An inbound message being processed is touched by its attempt every third of the grace
(``workflows.inbound.attempts``): a slow attempt is never doubled, one whose worker died is untouched
after the grace and enqueued again, and a message begun ``inbound_max_attempts`` times is failed by the
next attempt, so that the sweep stops at it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select

from workflows import clock
from workflows.config import Settings
from workflows.db import Database
from workflows.models import FaxJob, FaxStatus, InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from workflows.order.follow_up import overdue_ids
from workflows.registration import timers as registration_timers
from workflows.webhooks import deliveries

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class SweepResult:
    inbound: int
    outbound: int
    fax: int = 0
    timers: int = 0
    webhooks: int = 0


def sweep(
    db: Database,
    settings: Settings,
    enqueue_inbound: Callable[[int], None],
    enqueue_outbound: Callable[[int], None],
    enqueue_fax: Callable[[int], None] | None = None,
    enqueue_order_timer: Callable[[int], None] | None = None,
    enqueue_webhook: Callable[[int], None] | None = None,
    enqueue_registration_timer: Callable[[int], None] | None = None,
) -> SweepResult:
    """Enqueue what is pending, and the timers that are due (orders past their answer deadline)."""
    now = clock.now()
    stale = now - timedelta(seconds=settings.sweep_grace)
    lease = now - timedelta(seconds=settings.delivery_lease)
    with db.sessions() as session:
        inbound = list(session.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.status == InboundStatus.RECEIVED, InboundMessage.updated_at < stale)
            .order_by(InboundMessage.id).limit(BATCH)
        ))
        outbound = list(session.scalars(
            select(OutboundMessage.id)
            .where(or_(
                and_(OutboundMessage.status == OutboundStatus.QUEUED, OutboundMessage.created_at < stale,
                     or_(OutboundMessage.claimed_at.is_(None), OutboundMessage.claimed_at < stale)),
                and_(OutboundMessage.status == OutboundStatus.SENDING, OutboundMessage.claimed_at < lease),
            ))
            .order_by(OutboundMessage.id).limit(BATCH)
        ))
        # Fax jobs due for a (re)try, and attempts whose worker died mid-send.
        fax = list(session.scalars(
            select(FaxJob.id)
            .where(or_(
                and_(FaxJob.status == FaxStatus.QUEUED, FaxJob.next_attempt_at <= now,
                     or_(FaxJob.claimed_at.is_(None), FaxJob.claimed_at < stale),
                     FaxJob.created_at < stale),
                and_(FaxJob.status == FaxStatus.SENDING, FaxJob.transmission_ref.is_(None),
                     FaxJob.claimed_at < lease),
            ))
            .order_by(FaxJob.id).limit(BATCH)
        )) if enqueue_fax else []
        timers = overdue_ids(session, now, BATCH) if enqueue_order_timer else []
        registrations = registration_timers.due_ids(session, now, BATCH) if enqueue_registration_timer else []
        webhooks = deliveries.due_ids(session, stale, BATCH) if enqueue_webhook else []
    for inbound_id in inbound:
        enqueue_inbound(inbound_id)
    for job_id in fax:
        assert enqueue_fax is not None
        enqueue_fax(job_id)
    for outbound_id in outbound:
        enqueue_outbound(outbound_id)
    for order_id in timers:
        assert enqueue_order_timer is not None
        enqueue_order_timer(order_id)
    for registration_id in registrations:
        assert enqueue_registration_timer is not None
        enqueue_registration_timer(registration_id)
    for delivery_id in webhooks:
        assert enqueue_webhook is not None
        enqueue_webhook(delivery_id)
    if inbound or outbound or fax or webhooks:
        log.warning("sweep: enqueued %d inbound, %d outbound, %d fax items and %d webhooks", len(inbound),
                    len(outbound), len(fax), len(webhooks))
    if timers or registrations:
        log.info("sweep: %d orders past their answer deadline, %d registration timers due", len(timers),
                 len(registrations))
    return SweepResult(len(inbound), len(outbound), len(fax), len(timers) + len(registrations), len(webhooks))
