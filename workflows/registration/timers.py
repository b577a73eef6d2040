"""The registration's timers, run by the sweep: links that ran out, wholesalers who have not answered.

A wholesaler has ``registration_approval_days`` to answer; then it is reminded once and has as long
again; then the application lapses and the applicant is told. An unused link lapses after its 10 days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflows.config import Settings
from workflows.registration.models import Registration
from workflows.registration.workflow import fire


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(
        select(Registration.id).where(or_(
            and_(Registration.state == "requested", Registration.link_expires_at <= now),
            and_(Registration.state == "applied", Registration.approval_due_at <= now),
        )).order_by(Registration.id).limit(limit)))


def run_timer(session: Session, settings: Settings, registration: Registration, now: datetime) -> str | None:
    """Fire what is due for the registration (locked by the caller); the trigger fired, or None."""
    if registration.state == "requested" and registration.link_expires_at and registration.link_expires_at <= now:
        trigger = "expire"
    elif registration.state == "applied" and registration.approval_due_at and registration.approval_due_at <= now:
        trigger = "remind" if registration.reminded_at is None else "lapse"
    else:
        return None
    fire(session, settings, registration, trigger)
    return trigger
