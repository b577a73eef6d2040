"""The rows of buyers' users (manual 004): the one-time links mailed to them.

A link is an invitation (48 hours), the confirmation of a new email address, or a password reset (1 hour).
The mail carries a random token; only its SHA-256 is kept. A link works once; sending a new one of the same
purpose to the same user replaces the ones before.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workflows import clock
from workflows.models import Base


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"  # accept the invitation: set name and password
    EMAIL = "email"  # confirm a new email address before it takes effect
    RESET = "reset"  # set a new password


class AccountLink(Base):
    __tablename__ = "account_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    replaced_at: Mapped[datetime | None] = mapped_column(default=None)  # a newer link of the purpose was sent
    new_email: Mapped[str | None] = mapped_column(String(320))  # EMAIL: the address being confirmed
    created_by: Mapped[str | None] = mapped_column(String(300))  # the timeline's actor who caused it
