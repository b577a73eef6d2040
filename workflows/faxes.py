"""Fax jobs: queued in a workflow's transaction, sent by an actor, finished by the service's report.

A busy line or no answer is tried again after ``RETRY_BACKOFF``; a bad
number, or too many tries, fails the job for good. Every attempt and result is on
the object's timeline.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.fax_report import FaxFailure
from workflows import clock
from workflows.errors import InvalidRequest
from workflows.models import FaxJob, FaxStatus
from workflows.timeline import record

# Waits before the 2nd, 3rd and 4th attempt; after that the job fails for good.
RETRY_BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=45))


def next_attempt(attempts: int, failure: FaxFailure,
                 backoff: tuple[timedelta, ...] = RETRY_BACKOFF) -> timedelta | None:
    """How long to wait before trying again after ``attempts`` tries ended in ``failure``; None: give up."""
    if not failure.retryable or attempts > len(backoff):
        return None
    return backoff[attempts - 1]


def queue_fax(session: Session, *, object_type: str, object_id: int, kind: str, number: str, title: str,
              pdf: bytes, cause_inbound_id: int | None = None) -> FaxJob:
    """Write one fax job in the caller's transaction; InvalidRequest when the number cannot be dialled."""
    try:
        e164 = normalize_fax_number(number)
    except BadFaxNumber as exc:
        raise InvalidRequest(str(exc)) from exc
    job = FaxJob(object_type=object_type, object_id=object_id, kind=kind, number=e164, title=title, pdf=pdf)
    session.add(job)
    session.flush()
    record(session, object_type, object_id, "fax", f"{kind} fax queued to {e164}", fax_job_id=job.id,
           inbound_id=cause_inbound_id, pages_bytes=len(pdf))
    return job


def finish_attempt(session: Session, job: FaxJob, *, ok: bool, failure: FaxFailure | None, detail: str,
                   inbound_id: int | None = None, backoff: tuple[timedelta, ...] = RETRY_BACKOFF) -> None:
    """Record how an attempt ended: sent, to be tried again later, or failed for good."""
    if ok:
        job.status = FaxStatus.SENT
        job.failure = None
        summary = f"{job.kind} fax to {job.number} sent"
    else:
        failure = failure or FaxFailure.OTHER
        job.failure = failure
        job.last_error = detail
        wait = next_attempt(job.attempts, failure, backoff)
        if wait is None:
            job.status = FaxStatus.FAILED
            summary = f"{job.kind} fax to {job.number} failed for good ({failure}): {detail}"
        else:
            job.status = FaxStatus.QUEUED
            job.next_attempt_at = clock.now() + wait
            summary = (f"{job.kind} fax to {job.number} failed ({failure}), "
                       f"next try in {_minutes(wait)}: {detail}")
    record(session, job.object_type, job.object_id, "fax", summary, fax_job_id=job.id, inbound_id=inbound_id,
           status=str(job.status), attempt=job.attempts)


def _minutes(wait: timedelta) -> str:
    minutes = wait / timedelta(minutes=1)
    return f"{int(minutes)} min" if minutes >= 1 else f"{int(wait.total_seconds())} s"
