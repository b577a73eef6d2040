"""Changing a buyer's user's name or email address, each confirmed by mail (manual 004).

A new name takes effect at once and the user is mailed a confirmation of the change (old and new name). A new
address takes effect only when it is confirmed: the new address gets a link (``email_change_hours``), the old one
a notice that the change was asked for, so a user whose account was taken over hears of it where it still reads.
An address another user has, or is confirming, is refused (``Conflict``), at the request and again at the
confirmation. Documents issued before keep the names they were issued with: orders copy them when placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflows.catalog.fields import USER
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.models import Operator
from workflows.timeline import record
from workflows.users import links
from workflows.users.invites import normalized_email, one_line_name, refuse_taken
from workflows.users.mails import OBJECT_TYPE, jst, queue_user_mail
from workflows.users.models import LinkPurpose


@dataclass(frozen=True)
class Changed:
    name: bool
    email_pending: str | None  # the address waiting for its confirmation


def change(session: Session, settings: Settings, user: Operator, body: Mapping[str, Any]) -> Changed:
    """Apply ``{name?, email?}``: the name at once, the address once the new one confirms it."""
    unknown = sorted(set(body) - {"name", "email"})
    if unknown:
        raise InvalidRequest(f"{', '.join(unknown)}: unknown field; the fields are name, email")
    renamed = False
    if body.get("name") is not None:
        if not isinstance(body["name"], str):
            raise InvalidRequest("name: must be text")
        renamed = rename(session, settings, user, body["name"])
    pending = None
    if body.get("email") is not None:
        pending = change_email(session, settings, user, body["email"])
    return Changed(renamed, pending)


def rename(session: Session, settings: Settings, user: Operator, new_name: str) -> bool:
    name = one_line_name(new_name)
    if name == user.full_name:
        return False
    old, user.full_name = user.full_name, name
    record(session, OBJECT_TYPE, user.id, "renamed", f"name changed from {old!r} to {name!r}", old=old, new=name)
    if user.email:
        queue_user_mail(session, settings, user, "user_name_changed", user.email, old_name=old, new_name=name)
    return True


def change_email(session: Session, settings: Settings, user: Operator, raw: object) -> str | None:
    """Ask to change the address: a link to the new one, a notice to the old one; None when it is the same."""
    clean, problems = USER.clean({"email": raw})
    if problems and problems[0][0] == "email":
        raise InvalidRequest(f"email: {problems[0][1]}")
    new = normalized_email(clean["email"])
    if new == user.email:
        return None
    if user.invite_pending:
        raise InvalidRequest("email: the invitation has not been accepted yet; invite the right address instead")
    refuse_taken(session, new, but=user.id)
    link, url = links.issue(session, settings, user, LinkPurpose.EMAIL, new_email=new)
    record(session, OBJECT_TYPE, user.id, "email_change", f"change of address to {new} asked; waiting for it to "
                                                          f"confirm", new_email=new)
    common = {"old_email": user.email, "new_email": new, "expires_at": jst(link.expires_at),
              "hours": round(settings.email_change_hours)}
    queue_user_mail(session, settings, user, "user_email_confirm", new, url=url, **common)
    if user.email:
        queue_user_mail(session, settings, user, "user_email_notice", user.email, **common)
    return new


def pending_change(session: Session, token: str) -> tuple[Operator, str]:
    link, user = links.find(session, token, LinkPurpose.EMAIL)
    assert link.new_email
    return user, link.new_email


def confirm_email(session: Session, token: str) -> Operator:
    """The new address confirmed through its link: it is the user's from now on (and its login)."""
    link, user = links.find(session, token, LinkPurpose.EMAIL, lock=True)
    assert link.new_email
    refuse_taken(session, link.new_email, but=user.id)
    old, user.email = user.email, link.new_email
    links.use(link)
    record(session, OBJECT_TYPE, user.id, "email_changed", f"address changed from {old} to {user.email}",
           old=old, new=user.email)
    return user
