"""Delivering the outbox: claim a row, hand it to the transport, record the result.

A row is claimed (``sending``, with a time) in its own short transaction, so the
database is not locked while a relay is slow. A second task for the same row
finds it ``sent`` or freshly claimed and does nothing; a claim older than the
lease means its worker died mid-send, and the row may be sent again, with the
same Message-ID and idempotency key. Temporary failures go back to ``queued``
and are retried by Dramatiq with backoff; permanent ones end as ``failed``.

Once the relay (or the fax service) has taken a message, recording that is tried again
while the database is away (a restart takes seconds), up to most of the lease: a
record that fails at once would leave the claim to run out and the message be sent twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from gateway.fax import FaxJobRequest, FaxTransport
from gateway.logs import bind_log_context
from gateway.metrics import count_outbound
from gateway.transports import Envelope, MailTransport
from parsers.fax_report import FaxFailure
from workflows import clock
from workflows.config import Settings
from workflows.db import Database
from workflows.errors import PermanentDeliveryError, TemporaryDeliveryError
from workflows.faxes import finish_attempt
from workflows.models import FaxJob, FaxStatus, OutboundMessage, OutboundStatus
from workflows.registry import WORKFLOWS, after_fax, load_object
from workflows.timeline import record

log = logging.getLogger(__name__)


def _claim(db: Database, settings: Settings, outbound_id: int) -> Envelope | None:
    with db.transaction() as session:
        row = session.get(OutboundMessage, outbound_id, with_for_update=True)
        if row is None:
            log.warning("deliver: outbound %s does not exist", outbound_id)
            return None
        if row.status in (OutboundStatus.SENT, OutboundStatus.FAILED):
            return None
        now = clock.now()
        lease = timedelta(seconds=settings.delivery_lease)
        if row.status == OutboundStatus.SENDING and row.claimed_at and row.claimed_at > now - lease:
            return None
        bind_log_context(object_type=row.object_type, object_id=row.object_id)
        row.status = OutboundStatus.SENDING
        row.claimed_at = now
        row.attempts += 1
        return Envelope(mail_from=row.envelope_from, rcpt_tos=(row.to_addr,), raw=row.raw, key=row.message_id)


def deliver(db: Database, settings: Settings, transport: MailTransport, outbound_id: int) -> None:
    envelope = _claim(db, settings, outbound_id)
    if envelope is None:
        return
    try:
        transport.send(envelope)
    except TemporaryDeliveryError as exc:
        count_outbound("mail", "retrying")
        _finish(db, settings, outbound_id, OutboundStatus.QUEUED, str(exc))
        raise
    except PermanentDeliveryError as exc:
        count_outbound("mail", "failed")
        _finish(db, settings, outbound_id, OutboundStatus.FAILED, str(exc))
        return
    count_outbound("mail", "sent")
    _recorded(settings, f"outbound {outbound_id}",
              lambda: _finish(db, settings, outbound_id, OutboundStatus.SENT, None))


def _recorded(settings: Settings, what: str, record_it: Callable[[], None]) -> None:
    """Run ``record_it`` (the transaction saying a message went out), trying again while the database fails."""
    give_up = time.monotonic() + settings.delivery_lease * 0.8
    wait = 0.2
    while True:
        try:
            record_it()
            return
        except SQLAlchemyError:
            if time.monotonic() + wait > give_up:
                raise
            log.warning("deliver: %s went out but could not be recorded yet; trying again in %.1f s", what, wait,
                        exc_info=True)
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def _finish(db: Database, settings: Settings, outbound_id: int, status: OutboundStatus, error: str | None) -> None:
    with db.transaction() as session:
        row = session.get(OutboundMessage, outbound_id, with_for_update=True)
        assert row is not None
        row.status = status
        row.last_error = error
        if status == OutboundStatus.SENT:
            row.sent_at = clock.now()
            summary = f"{row.kind} mail delivered to {row.to_addr}"
        elif status == OutboundStatus.FAILED:
            summary = f"{row.kind} mail to {row.to_addr} failed for good: {error}"
        else:
            summary = f"{row.kind} mail to {row.to_addr} failed, will retry: {error}"
        record(session, row.object_type, row.object_id, "delivery", summary, outbound_id=row.id,
               status=str(status), attempt=row.attempts)
        log.info("deliver: outbound %s %s (attempt %s)", row.id, status, row.attempts)
        if status in (OutboundStatus.SENT, OutboundStatus.FAILED):
            spec = WORKFLOWS.get(row.object_type)
            obj = load_object(session, row.object_type, row.object_id, lock=True)
            if spec is not None and obj is not None:
                spec.after_delivery(session, settings, obj, row)


def send_fax(db: Database, settings: Settings, transport: FaxTransport, job_id: int) -> None:
    """One attempt of a fax job: claim it, hand it over, record the result (or wait for the report)."""
    with db.transaction() as session:
        job = session.get(FaxJob, job_id, with_for_update=True)
        if job is None or job.status != FaxStatus.QUEUED or job.next_attempt_at > clock.now():
            return  # done, in progress, or not due yet (the sweep brings it back when it is)
        bind_log_context(object_type=job.object_type, object_id=job.object_id)
        job.status = FaxStatus.SENDING
        job.claimed_at = clock.now()
        job.attempts += 1
        request = FaxJobRequest(job.id, job.number, job.pdf, job.title)
    try:
        reference = transport.send(request)
    except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
        failure = FaxFailure.OTHER if isinstance(exc, TemporaryDeliveryError) else FaxFailure.BAD_NUMBER
        with db.transaction() as session:
            job = session.get(FaxJob, job_id, with_for_update=True)
            assert job is not None
            finish_attempt(session, job, ok=False, failure=failure, detail=str(exc), backoff=settings.fax_retry_backoff)
            after_fax(session, settings, job)
        count_outbound("fax", "retrying" if job.status == FaxStatus.QUEUED else "failed")
        return

    def handed_over() -> None:
        with db.transaction() as session:
            job = session.get(FaxJob, job_id, with_for_update=True)
            assert job is not None
            job.transmission_ref = reference
            if transport.reports_by_mail:
                record(session, job.object_type, job.object_id, "fax",
                       f"{job.kind} fax handed to the fax service ({reference}); waiting for its report",
                       fax_job_id=job.id, attempt=job.attempts)
            else:
                finish_attempt(session, job, ok=True, failure=None, detail=reference)
                after_fax(session, settings, job)

    _recorded(settings, f"fax job {job_id}", handed_over)
    count_outbound("fax", "handed_over" if transport.reports_by_mail else "sent")
