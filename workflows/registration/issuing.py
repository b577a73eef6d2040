"""Issuing IDs: the company ID, account IDs (at most 999 a company), and the one-time password link.

Company IDs read ``C000012``; account IDs are the company ID and a number, ``C000012-001``. The ID
administrator's password is never mailed: the completion mail carries a link that works once,
for ``password_link_hours``, and the password set there is stored as argon2id.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parsers.company_names import company_key, display_name
from workflows import accounts, clock
from workflows.config import Settings
from workflows.errors import InvalidRequest, NotFound
from workflows.registration.models import Company, CompanyAccount, Registration

MAX_ACCOUNTS = 999


class TooManyAccounts(InvalidRequest):
    """A company has its 999 account IDs already (manual 001)."""


def find_company(session: Session, name: str) -> Company | None:
    """The company of that name, its legal form, width and spacing aside."""
    key = company_key(name)
    return session.scalars(select(Company).where(Company.key == key)).first() if key else None


def search_companies(session: Session, text: str, limit: int = 20) -> list[Company]:
    key = company_key(text)
    if not key:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(session.scalars(select(Company).where(Company.key.like(f"%{escaped}%", escape="\\"))
                                .order_by(Company.name).limit(limit)))


def company_admin(session: Session, company: Company) -> CompanyAccount | None:
    return session.scalars(select(CompanyAccount).where(CompanyAccount.company_id == company.id,
                                                        CompanyAccount.role == "admin")
                           .order_by(CompanyAccount.number)).first()


def password_link(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/register/password/{token}"


def add_account(session: Session, settings: Settings, company: Company, name: str, email: str, role: str = "user"
                ) -> tuple[CompanyAccount, str]:
    """A new account ID and the link to set its password; the 1000th is refused."""
    session.get(Company, company.id, with_for_update=True)  # numbers are drawn one writer at a time
    used = session.scalar(select(func.count()).select_from(CompanyAccount)
                          .where(CompanyAccount.company_id == company.id)) or 0
    if used >= MAX_ACCOUNTS:
        raise TooManyAccounts(f"{company.code} has {MAX_ACCOUNTS} account IDs already, the most a company may have")
    number = (session.scalar(select(func.max(CompanyAccount.number))
                             .where(CompanyAccount.company_id == company.id)) or 0) + 1
    token = secrets.token_urlsafe(32)
    account = CompanyAccount(company_id=company.id, number=number, account_id=f"{company.code}-{number:03d}",
                             name=name, email=email, role=role, password_token_hash=accounts.token_hash(token),
                             password_token_expires_at=clock.now() + timedelta(hours=settings.password_link_hours))
    session.add(account)
    session.flush()
    return account, password_link(settings, token)


def issue(session: Session, settings: Settings, registration: Registration) -> tuple[Company, CompanyAccount, str]:
    """The company and its ID administrator, from an approved application: (company, account, password link)."""
    if find_company(session, registration.company_name) is not None:
        raise InvalidRequest(f"{registration.company_name} has a company ID already")
    # A placeholder code until the row has its id (codes are unique, and two may be made at once).
    company = Company(code=f"new-{secrets.token_hex(4)}", name=display_name(registration.company_name),
                      key=registration.company_key, address=registration.company_address,
                      phone=registration.company_phone,
                      jan_maker_code=registration.jan_maker_code, registration_id=registration.id)
    session.add(company)
    session.flush()
    company.code = f"C{company.id:06d}"
    registration.company_id = company.id
    account, link = add_account(session, settings, company, registration.admin_name, registration.admin_email,
                                role="admin")
    return company, account, link


def account_by_password_token(session: Session, token: str, *, lock: bool = False) -> CompanyAccount:
    """The account a password link names while it holds; NotFound once used or expired."""
    query = select(CompanyAccount).where(CompanyAccount.password_token_hash == accounts.token_hash(token))
    account = session.scalars(query.with_for_update() if lock else query).first()
    if account is None or account.password_token_expires_at is None \
            or account.password_token_expires_at <= clock.now():
        raise NotFound("this link has been used or has expired")
    return account


def set_account_password(session: Session, token: str, password: str) -> CompanyAccount:
    account = account_by_password_token(session, token, lock=True)
    account.password_hash = accounts.hash_password(password)
    account.password_token_hash, account.password_token_expires_at = None, None
    return account
