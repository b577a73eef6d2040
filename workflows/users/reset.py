"""Resetting a forgotten password by mail: a one-time link valid ``password_reset_hours`` (1).

Asking answers the same whether or not a user has the address, so the page cannot be used to find out who
is a user; only a user that has accepted its invitation gets a mail, and at most ``password_reset_mail_limit``
an hour. The link sets a new argon2id password, ends every session of the user, and lifts a login lockout.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import accounts
from workflows.config import Settings
from workflows.models import Operator
from workflows.timeline import record
from workflows.users import links
from workflows.users.invites import normalized_email
from workflows.users.mails import OBJECT_TYPE, jst, queue_user_mail
from workflows.users.models import LinkPurpose

log = logging.getLogger(__name__)


def request_reset(session: Session, settings: Settings, address: str) -> None:
    """Mail a reset link if a user has the address; nothing tells the caller which happened."""
    user = session.scalars(select(Operator).where(Operator.email == normalized_email(address))
                           .with_for_update()).first()
    if user is None or user.invite_pending or user.disabled:
        log.info("password reset asked for an address no active user has")
        return
    if links.sent_within(session, user, LinkPurpose.RESET, 1) >= settings.password_reset_mail_limit:
        record(session, OBJECT_TYPE, user.id, "suppressed", "password reset asked again; no more mails this hour")
        return
    link, url = links.issue(session, settings, user, LinkPurpose.RESET)
    record(session, OBJECT_TYPE, user.id, "reset_asked", "password reset link mailed")
    assert user.email
    queue_user_mail(session, settings, user, "user_password_reset", user.email, url=url,
                    expires_at=jst(link.expires_at), minutes=round(settings.password_reset_hours * 60))


def reset_user(session: Session, token: str) -> Operator:
    return links.find(session, token, LinkPurpose.RESET)[1]


def reset_password(session: Session, token: str, password: str) -> Operator:
    link, user = links.find(session, token, LinkPurpose.RESET, lock=True)
    accounts.set_password(session, user, password)
    links.use(link)
    record(session, OBJECT_TYPE, user.id, "password_reset", "password set through the reset link")
    return user
