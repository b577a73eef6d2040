"""Inviting a buyer's user by mail, sending the invitation again, and accepting it.

The invited user is an operator account from the start, confined to its buyer, with its email and no
password (``invite_pending``): the address is taken at once, so no one else can be invited to it or change
to it. The mail's link works for ``user_invite_hours`` (48) and once; sending again replaces it. Accepting
sets the person's name and an argon2id password, and the user logs in with its email address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import accounts, clock
from workflows.catalog.fields import USER, clean_body
from workflows.config import Settings
from workflows.errors import Conflict, InvalidRequest
from workflows.models import Buyer, Operator
from workflows.timeline import ACTOR, record
from workflows.users import links
from workflows.users.mails import OBJECT_TYPE, jst, queue_user_mail
from workflows.users.models import AccountLink, LinkPurpose

log = logging.getLogger(__name__)


def normalized_email(address: str) -> str:
    """Addresses are compared and kept in lower case: Hanako@ and hanako@ are one user."""
    return address.strip().lower()


def email_taken(session: Session, address: str, *, but: int | None = None) -> bool:
    """Whether another user has the address, or is confirming a change to it."""
    address = normalized_email(address)
    owner = session.scalars(select(Operator.id).where(Operator.email == address)).first()
    if owner is not None and owner != but:
        return True
    pending = session.scalars(select(AccountLink.operator_id).where(
        AccountLink.purpose == LinkPurpose.EMAIL, AccountLink.new_email == address, AccountLink.used_at.is_(None),
        AccountLink.replaced_at.is_(None), AccountLink.expires_at > clock.now())).all()
    return any(user_id != but for user_id in pending)


def refuse_taken(session: Session, address: str, *, but: int | None = None) -> None:
    if email_taken(session, address, but=but):
        raise Conflict(f"email: {normalized_email(address)} is used by another user")


def _login_name(session: Session, address: str) -> str:
    """A unique operator name from the address's local part (the timeline shows ``operator:hanako``)."""
    base = re.sub(r"[^a-z0-9._-]", "", address.partition("@")[0].lower())[:56] or "user"
    name, number = base, 1
    while session.scalars(select(Operator.id).where(Operator.name == name)).first() is not None:
        number += 1
        name = f"{base}-{number}"
    return name


def clean_user(body: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    return clean_body(USER, dict(body), where=where)


def invite(session: Session, settings: Settings, buyer: Buyer, body: Mapping[str, Any]) -> Operator:
    """Invite ``{email, name?, role?: viewer|operator|admin, language?: ja|en}`` to the buyer; ``Conflict``
    when another user has the address."""
    return invite_clean(session, settings, buyer, clean_user(body))


def invite_clean(session: Session, settings: Settings, buyer: Buyer, clean: Mapping[str, Any]) -> Operator:
    email = normalized_email(clean["email"])
    refuse_taken(session, email)
    user = Operator(name=_login_name(session, email), password_hash="", role=clean["role"] or "operator",
                    buyer_id=buyer.id, language=clean["language"] or buyer.language, email=email,
                    full_name=clean["name"] or "", invite_pending=True)
    try:
        with session.begin_nested():  # an invite of the address committed since the check meets the unique index
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"email: {email} is used by another user") from exc
    record(session, OBJECT_TYPE, user.id, "invited", f"{email} invited to {buyer.name} as {user.role}",
           buyer_id=buyer.id)
    _send_invitation(session, settings, user)
    log.info("user %s invited to buyer %s", user.id, buyer.id)
    return user


def _send_invitation(session: Session, settings: Settings, user: Operator) -> None:
    assert user.email
    link, url = links.issue(session, settings, user, LinkPurpose.INVITE)
    inviter = (ACTOR.get() or "").partition(":")[2]
    queue_user_mail(session, settings, user, "user_invite", user.email, url=url, expires_at=jst(link.expires_at),
                    hours=round(settings.user_invite_hours), inviter=inviter)


def resend(session: Session, settings: Settings, user: Operator) -> None:
    """The invitation again, with a new link; the one sent before stops working."""
    if not user.invite_pending:
        raise InvalidRequest(f"{user.email} has accepted the invitation already")
    _send_invitation(session, settings, user)
    record(session, OBJECT_TYPE, user.id, "reinvited", f"invitation sent again to {user.email}")


def pending_invite(session: Session, token: str) -> Operator:
    """The invited user the link names, while the link works (``LinkRefused`` otherwise)."""
    return links.find(session, token, LinkPurpose.INVITE)[1]


def accept(session: Session, token: str, full_name: str, password: str) -> Operator:
    """The invitation accepted: the person's name and password set, the link used; the user may log in."""
    link, user = links.find(session, token, LinkPurpose.INVITE, lock=True)
    name = one_line_name(full_name)
    user.password_hash = accounts.hash_password(password)
    user.password_changed_at = clock.now()
    user.full_name = name
    user.invite_pending = False
    links.use(link)
    record(session, OBJECT_TYPE, user.id, "accepted", f"{user.email} accepted the invitation as {name}")
    return user


def one_line_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidRequest("name: is required")
    if len(name) > 255:
        raise InvalidRequest("name: is longer than 255 characters")
    return name


def users_of(session: Session, buyer_id: int) -> list[Operator]:
    return list(session.scalars(select(Operator).where(Operator.buyer_id == buyer_id, Operator.email.is_not(None))
                                .order_by(Operator.id)))


def pending_email(session: Session, user: Operator) -> AccountLink | None:
    """The change of address waiting for the new address's confirmation, if any."""
    return session.scalars(select(AccountLink).where(
        AccountLink.operator_id == user.id, AccountLink.purpose == LinkPurpose.EMAIL, AccountLink.used_at.is_(None),
        AccountLink.replaced_at.is_(None), AccountLink.expires_at > clock.now())).first()


def user_json(session: Session, user: Operator) -> dict[str, Any]:
    change = pending_email(session, user)
    invite_link = session.scalars(select(AccountLink).where(
        AccountLink.operator_id == user.id, AccountLink.purpose == LinkPurpose.INVITE)
        .order_by(AccountLink.id.desc()).limit(1)).first() if user.invite_pending else None
    if user.invite_pending:
        status = "invited" if invite_link and invite_link.expires_at > clock.now() else "invite_expired"
    else:
        status = "disabled" if user.disabled else "active"
    return {"id": user.id, "buyer_id": user.buyer_id, "email": user.email, "name": user.full_name,
            "login": user.name, "role": user.role, "language": user.language, "status": status,
            "invite_expires_at": invite_link.expires_at.isoformat() if invite_link else None,
            "pending_email": change.new_email if change else None,
            "created_at": user.created_at.isoformat() if user.created_at else None}
