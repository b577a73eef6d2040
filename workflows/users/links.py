"""One-time links mailed to a buyer's user: made, found, used, replaced; every timer on the one clock.

A link names its user by a random token that only the mail carries (the row keeps its SHA-256). It
works until ``expires_at`` and once; a newer link of the same purpose replaces those before, so an
old invitation mail stops working the moment a new one is sent.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows import clock
from workflows.accounts import token_hash
from workflows.config import Settings
from workflows.errors import ToriiError
from workflows.models import Operator
from workflows.timeline import ACTOR
from workflows.users.models import AccountLink, LinkPurpose

# Where each purpose's page is, under the gateway's public URL.
PATHS = {LinkPurpose.INVITE: "/join", LinkPurpose.EMAIL: "/email", LinkPurpose.RESET: "/password-reset"}


class LinkRefused(ToriiError):
    """A link that does not work (any more): ``why`` is unknown, expired, used or replaced."""

    def __init__(self, why: str) -> None:
        super().__init__(f"this link is {why}" if why != "unknown" else "this link is not valid")
        self.why = why


def hours_of(settings: Settings, purpose: LinkPurpose) -> float:
    return {LinkPurpose.INVITE: settings.user_invite_hours, LinkPurpose.EMAIL: settings.email_change_hours,
            LinkPurpose.RESET: settings.password_reset_hours}[purpose]


def issue(session: Session, settings: Settings, operator: Operator, purpose: LinkPurpose, *,
          new_email: str | None = None) -> tuple[AccountLink, str]:
    """A new link for the user (the ones of that purpose before it stop working), and its URL."""
    now = clock.now()
    replace_open(session, operator, purpose)
    token = secrets.token_urlsafe(32)
    link = AccountLink(operator_id=operator.id, purpose=purpose, token_hash=token_hash(token), created_at=now,
                       expires_at=now + timedelta(hours=hours_of(settings, purpose)), new_email=new_email,
                       created_by=ACTOR.get())
    session.add(link)
    session.flush()
    return link, f"{settings.public_url}{PATHS[purpose]}/{token}"


def replace_open(session: Session, operator: Operator, purpose: LinkPurpose) -> None:
    session.execute(update(AccountLink).where(
        AccountLink.operator_id == operator.id, AccountLink.purpose == purpose, AccountLink.used_at.is_(None),
        AccountLink.replaced_at.is_(None)).values(replaced_at=clock.now()))


def find(session: Session, token: str, purpose: LinkPurpose, *, lock: bool = False) -> tuple[AccountLink, Operator]:
    """The link and its user while the link works; ``LinkRefused`` saying why it does not."""
    query = select(AccountLink).where(AccountLink.token_hash == token_hash(token), AccountLink.purpose == purpose)
    link = session.scalars(query.with_for_update() if lock else query).first()
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.replaced_at is not None:
        raise LinkRefused("replaced")
    if link.expires_at <= clock.now():
        raise LinkRefused("expired")
    operator = session.get(Operator, link.operator_id, with_for_update=lock or None)
    if operator is None or operator.disabled:
        raise LinkRefused("unknown")
    return link, operator


def use(link: AccountLink) -> None:
    link.used_at = clock.now()


def sent_within(session: Session, operator: Operator, purpose: LinkPurpose, hours: float) -> int:
    """How many links of the purpose the user was sent lately (the reset mail's own rate limit)."""
    since = clock.now() - timedelta(hours=hours)
    return len(session.scalars(select(AccountLink.id).where(
        AccountLink.operator_id == operator.id, AccountLink.purpose == purpose,
        AccountLink.created_at > since)).all())
