"""The rows of registration (manual 001): companies with their IDs, their accounts, and each application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows import clock
from workflows.models import Base


class Company(Base):
    """A company with its company ID (企業ID); ``key`` is its name without legal form, for the search."""

    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # "C000012"
    name: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    jan_maker_code: Mapped[str] = mapped_column(String(10))
    registration_id: Mapped[int | None] = mapped_column(Integer)  # the application it came from


class CompanyAccount(Base):
    """One user's account ID (アカウントID) in a company: ``C000012-001``; at most 999 per company."""

    __tablename__ = "company_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1..999 within the company
    account_id: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16), default="user")  # admin: the company's ID administrator
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id, once set through the link
    # The one-time link to set the password: only its SHA-256 is kept.
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_token_expires_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("company_id", "number"),)


class Registration(Base):
    """One application for a company ID, from the first mail to the issued IDs (or why not)."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    state: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # mail, api, fax
    language: Mapped[str] = mapped_column(String(8), default="ja")
    applicant_email: Mapped[str] = mapped_column(String(320))
    company_name: Mapped[str] = mapped_column(String(255))
    company_key: Mapped[str] = mapped_column(String(255), index=True)
    # Replies to the gateway's mails about it come back by this token (the applicant's, then the wholesaler's).
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The application link (10 days, used once) and the wholesaler's approval link: SHA-256 only.
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    link_used_at: Mapped[datetime | None] = mapped_column(default=None)
    approval_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What the application says.
    jan_maker_code: Mapped[str] = mapped_column(String(10), default="")
    company_address: Mapped[str] = mapped_column(Text, default="")
    company_phone: Mapped[str] = mapped_column(String(32), default="")
    wholesaler_company: Mapped[str] = mapped_column(String(255), default="")
    wholesaler_department: Mapped[str] = mapped_column(String(255), default="")
    wholesaler_contact: Mapped[str] = mapped_column(String(255), default="")
    wholesaler_email: Mapped[str] = mapped_column(String(320), default="")
    admin_name: Mapped[str] = mapped_column(String(255), default="")
    admin_email: Mapped[str] = mapped_column(String(320), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # anything else the applicant gave
    applied_at: Mapped[datetime | None] = mapped_column(default=None)
    approval_due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected, lapsed or answered as existing
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
