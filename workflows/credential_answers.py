"""Answers to paper invitations by mail: the temporary ID and password say which invitation, and prove it.

A right pair redeems the invitation (the answer is then read as for any reply); a
wrong pair is refused and the sender told so by mail. Wrong tries are counted per
sender and per temporary ID: ``credential_failure_limit`` of either within an hour
locks it for the rest of that hour, even against the right pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from parsers.credential_text import find_credentials
from workflows import clock
from workflows.config import Settings
from workflows.credentials import lookup_key, verify_secret
from workflows.mail import queue_mail
from workflows.models import CredentialFailure, InboundMessage, Invitation
from workflows.timeline import record

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class CredentialCheck:
    invitation_id: int | None
    problem: str | None  # None: the pair is right and nothing is locked


@dataclass(frozen=True)
class Lock:
    kind: str  # "sender" or "temporary ID"
    who: str  # the sender's address, or the invitation
    failures: int
    until: datetime


def _failures(session: Session, column: InstrumentedAttribute[Any], value: str) -> tuple[int, datetime | None]:
    since = clock.now() - WINDOW
    count, last = session.execute(
        select(func.count(), func.max(CredentialFailure.at)).where(column == value, CredentialFailure.at >= since)
    ).one()
    return int(count or 0), last


def lock_reason(session: Session, settings: Settings, sender: str | None, id_lookup: str | None) -> str | None:
    for label, column, value in (("sender " + (sender or ""), CredentialFailure.sender, sender),
                                 ("this temporary ID", CredentialFailure.id_lookup, id_lookup)):
        if value:
            count, last = _failures(session, column, value)
            if count >= settings.credential_failure_limit and last is not None:
                return (f"locked: {label} had {count} wrong tries within an hour; "
                        f"locked until {(last + WINDOW).isoformat(timespec='minutes')}")
    return None


def check(session: Session, settings: Settings, row: InboundMessage, text: str, sender: str | None
          ) -> CredentialCheck | None:
    """None when the mail carries no temporary credentials at all."""
    candidates = find_credentials(text)
    if not candidates:
        return None
    for temp_id, password in candidates:
        key = lookup_key(temp_id, settings.secret_key)
        invitation = session.scalars(select(Invitation).where(Invitation.temp_id_lookup == key)).first()
        if invitation is None:
            continue
        locked = lock_reason(session, settings, sender, key)
        if locked:
            return CredentialCheck(invitation.id, locked)
        if invitation.temp_password_hash and verify_secret(password, invitation.temp_password_hash):
            if invitation.redeemed_at is None:
                invitation.redeemed_at = clock.now()
                record(session, "invitation", invitation.id, "redeemed",
                       f"temporary credentials redeemed by {sender}", inbound_id=row.id)
            return CredentialCheck(invitation.id, None)
        return _refuse(session, settings, row, sender, key, invitation.id, "wrong temporary password")
    locked = lock_reason(session, settings, sender, None)
    if locked:
        return CredentialCheck(None, locked)
    key = lookup_key(candidates[0][0], settings.secret_key)
    return _refuse(session, settings, row, sender, key, None, "unknown temporary ID")


def _refuse(session: Session, settings: Settings, row: InboundMessage, sender: str | None, key: str,
            invitation_id: int | None, reason: str) -> CredentialCheck:
    session.add(CredentialFailure(sender=sender, id_lookup=key, invitation_id=invitation_id, inbound_id=row.id))
    session.flush()
    locked = lock_reason(session, settings, sender, key)
    if invitation_id is not None:
        record(session, "invitation", invitation_id, "refused", f"{reason} from {sender}", inbound_id=row.id)
    if sender:
        queue_mail(session, object_type="invitation" if invitation_id else "inbound",
                   object_id=invitation_id or row.id, kind="credentials_refused", language="ja",
                   context={"reason": reason, "locked": locked}, to_addr=sender, to_name="",
                   from_addr=settings.from_address, from_name="Torii", domain=settings.mail_domain,
                   in_reply_to=row.message_id, cause_inbound_id=row.id, hourly_limit=settings.mail_hourly_limit)
    return CredentialCheck(invitation_id, f"{reason}; {locked}" if locked else reason)


def current_locks(session: Session, settings: Settings) -> list[Lock]:
    """Senders and temporary IDs locked now, for operators."""
    since = clock.now() - WINDOW
    locks = []
    for kind, column in (("sender", CredentialFailure.sender), ("temporary ID", CredentialFailure.invitation_id)):
        rows = session.execute(
            select(column, func.count(), func.max(CredentialFailure.at))
            .where(CredentialFailure.at >= since, column.is_not(None))
            .group_by(column).having(func.count() >= settings.credential_failure_limit)
        ).all()
        for who, count, last in rows:
            label = f"INV-{who}" if kind == "temporary ID" else str(who)
            locks.append(Lock(kind, label, int(count), last + WINDOW))
    return locks
