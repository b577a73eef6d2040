"""Applying: a request starts a registration, the link (or a reply) brings the application, checked.

A request names the company; one that has an ID already is answered with its ID administrator
(the address masked) and goes no further. Otherwise the applicant gets the terms and a link valid
``registration_link_days`` (10) that works once. The application is checked whole and every
problem is told at once, in Japanese and English: the JAN maker code, the wholesaler, the ID
administrator, and no free-mail address for the administrator (IDs and passwords go there).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.company_names import company_key, display_name
from parsers.jan import InvalidJanCode, read_maker_code
from parsers.registration_form import FIELDS
from workflows import accounts, clock
from workflows.config import Settings
from workflows.errors import InvalidRequest, NotFound, TransitionRefused
from workflows.invitation import new_reply_token
from workflows.models import InboundMessage
from workflows.registration.issuing import company_admin, find_company
from workflows.registration.models import Registration
from workflows.registration.workflow import (
    MACHINE,
    OBJECT_TYPE,
    RegistrationContext,
    fire,
    jst,
    link_url,
    masked,
    new_approval_link,
    problems_text,
    queue,
)
from workflows.timeline import record

TERMS_JA = """本サービスは、企業ID・アカウントIDを用いて取引情報をやりとりするためのものです。
1. 申請内容は、認証先卸のご担当者が確認します。事実と異なる申請はお受けできません。
2. 企業IDは企業ごとに1つです。アカウントIDはID管理者が社内で発行・管理してください（1企業につき最大999個）。
3. ID・パスワードは第三者に知らせないでください。パスワードがメールで送られることはありません。
4. 申請用URLの有効期限は10日間です。期限を過ぎた場合は、もう一度お申し込みください。"""
TERMS_EN = """This service exchanges trade information under company IDs and account IDs.
1. Your authenticating wholesaler's contact checks the application; untrue applications are refused.
2. A company has one company ID. The ID administrator issues and manages account IDs within the company
   (999 at most per company).
3. Keep IDs and passwords to yourselves. A password is never sent by mail.
4. The application link is valid for 10 days. Once it has expired, please apply again."""

Problem = tuple[str, str]


@dataclass(frozen=True)
class Started:
    registration: Registration
    link: str | None  # None: the company exists already


def terms(language: str) -> str:
    return TERMS_JA if language == "ja" else TERMS_EN


def _fields() -> list[tuple[str, str]]:
    return [(f.label_ja, f.label_en) for f in FIELDS]


def _email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain and " " not in value and "\n" not in value)


def start(session: Session, settings: Settings, *, applicant_email: str, company_name: str, channel: str,
          language: str = "ja", inbound: InboundMessage | None = None, send_link: bool = True) -> Started:
    """A request for a company ID: the existing company's administrator, or the terms and a link.

    ``send_link=False``: the application is in hand already (a fax form), it is applied at once.
    """
    applicant_email = applicant_email.strip().lower()
    if not _email(applicant_email):
        raise InvalidRequest(f"{applicant_email!r} is not an email address")
    key = company_key(company_name)
    if not key:
        raise InvalidRequest("the company name is missing (the legal form alone names no company)")
    language = language if language in ("ja", "en") else "ja"
    registration = Registration(state="requested", channel=channel, language=language,
                                applicant_email=applicant_email, company_name=display_name(company_name),
                                company_key=key, reply_token=new_reply_token())
    session.add(registration)
    session.flush()
    record(session, OBJECT_TYPE, registration.id, "created", f"requested by {applicant_email} ({channel})",
           inbound_id=inbound.id if inbound else None, company=registration.company_name)
    ctx = RegistrationContext(session, settings, registration, inbound)
    existing = find_company(session, company_name)
    if existing is not None:
        admin = company_admin(session, existing)
        registration.state, registration.company_id = "existing", existing.id
        registration.reason = f"{existing.name} has the company ID {existing.code} already"
        record(session, OBJECT_TYPE, registration.id, "transition", f"existing: {registration.reason}",
               trigger="existing", source="requested", dest="existing")
        queue(ctx, "registration_existing", applicant_email, company_name=existing.name, company_code=existing.code,
              admin_name=admin.name if admin else "", admin_email_masked=masked(admin.email) if admin else "")
        return Started(registration, None)
    token = secrets.token_urlsafe(32)
    registration.link_token_hash = accounts.token_hash(token)
    registration.link_expires_at = clock.now() + timedelta(days=settings.registration_link_days)
    link = link_url(settings, token)
    if not send_link:
        return Started(registration, link)
    queue(ctx, "registration_link", applicant_email, link_url=link, expires_at=jst(registration.link_expires_at),
          terms=terms(language), fields=_fields())
    return Started(registration, link)


def _by_token(session: Session, column: Any, token: str, what: str, lock: bool) -> Registration:
    query = select(Registration).where(column == accounts.token_hash(token))
    found = session.scalars(query.with_for_update() if lock else query).first()
    if found is None:
        raise NotFound(f"this {what} link is unknown")
    return found


def by_link(session: Session, token: str, *, lock: bool = False) -> Registration:
    """The registration an application link names; NotFound for an unknown one."""
    return _by_token(session, Registration.link_token_hash, token, "application", lock)


def by_approval_token(session: Session, token: str, *, lock: bool = False) -> Registration:
    """The registration a wholesaler's approval link names; NotFound for an unknown one."""
    return _by_token(session, Registration.approval_token_hash, token, "approval", lock)


def link_problem(registration: Registration) -> str | None:
    """Why the link can no longer be used (used, expired), or None."""
    if registration.link_used_at is not None or registration.state != "requested":
        return "used"
    if registration.link_expires_at is None or registration.link_expires_at <= clock.now():
        return "expired"
    return None


def check_application(settings: Settings, fields: Mapping[str, str], applicant_email: str) -> tuple[
        dict[str, str], list[Problem]]:
    """The application's fields cleaned, and every problem with it (Japanese, English)."""
    clean = {f.key: " ".join(str(fields.get(f.key, "")).split()) for f in FIELDS}
    problems: list[Problem] = [(f"{f.label_ja}が未記入です", f"{f.label_en} is missing")
                               for f in FIELDS if f.required and not clean[f.key]]
    if clean["jan_maker_code"]:
        try:
            clean["jan_maker_code"] = read_maker_code(clean["jan_maker_code"]).digits
        except InvalidJanCode as exc:
            problems.append((exc.reason_ja, exc.reason_en))
    for key, ja, en in (("wholesaler_email", "認証先卸担当者メールアドレス", "the wholesaler's email"),
                        ("admin_email", "ID管理者メールアドレス", "the ID administrator's email")):
        clean[key] = clean[key].lower()
        if clean[key] and not _email(clean[key]):
            problems.append((f"{ja}の形式が正しくありません", f"{en} is not an email address"))
    domain = clean["admin_email"].rpartition("@")[2]
    if domain in settings.free_mail_domains:
        problems.append((f"ID・パスワードはフリーメールアドレス（{domain}）には送れません。企業ドメインのアドレスをご記入ください",
                         f"IDs and passwords are not sent to free-mail addresses ({domain}); "
                         "give an address of your company's domain"))
    if clean["wholesaler_email"] and clean["wholesaler_email"] in (clean["admin_email"], applicant_email.lower()):
        problems.append(("認証先卸のご担当者は、申請者・ID管理者とは別の方です",
                         "the wholesaler's contact must be someone else than the applicant and the ID administrator"))
    return clean, problems


def apply(session: Session, settings: Settings, registration: Registration, fields: Mapping[str, str], *,
          inbound: InboundMessage | None = None) -> str:
    """Take the application: the wholesaler is asked to approve. Refused (with every problem) otherwise.

    Returns the wholesaler's approval link. A refused application by mail is answered with its problems.
    """
    if registration.state == "requested" and link_problem(registration) == "expired":
        fire(session, settings, registration, "expire")
    if not MACHINE.allows(registration.state, "apply"):
        fire(session, settings, registration, "apply", inbound=inbound)  # refused, saying why; nothing changes
    clean, problems = check_application(settings, fields, registration.applicant_email)
    named = company_key(clean["company_name"])
    if named and named != registration.company_key and find_company(session, clean["company_name"]) is not None:
        problems.append((f"{clean['company_name']} はすでに企業IDをお持ちです。貴社のID管理者にお問い合わせください",
                         f"{clean['company_name']} has a company ID already; ask your company's ID administrator"))
    if problems:
        if inbound is not None:
            # A fresh link (only hashes are kept, so the first cannot be sent again); it replaces the first.
            token = secrets.token_urlsafe(32)
            usable = link_problem(registration) is None
            if usable:
                registration.link_token_hash = accounts.token_hash(token)
            ctx = RegistrationContext(session, settings, registration, inbound)
            queue(ctx, "registration_fix", registration.applicant_email, problems=problems,
                  link_url=link_url(settings, token) if usable else "",
                  expires_at=jst(registration.link_expires_at) if usable else "", fields=_fields())
        record(session, OBJECT_TYPE, registration.id, "refused", f"application refused: {problems_text(problems)}",
               inbound_id=inbound.id if inbound else None, problems=[en for _ja, en in problems])
        raise ApplicationRefused(registration.state, problems)
    for key, value in clean.items():
        if key != "company_name":
            setattr(registration, key, value)
    if named:  # the name as the application writes it (the request may have named it otherwise)
        registration.company_name, registration.company_key = display_name(clean["company_name"]), named
    registration.applied_at, registration.link_used_at = clock.now(), clock.now()
    registration.approval_due_at = clock.now() + timedelta(days=settings.registration_approval_days)
    url = new_approval_link(settings, registration)
    fire(session, settings, registration, "apply", inbound=inbound, approve_url=url)
    return url


class ApplicationRefused(TransitionRefused):
    """An application with problems: nothing of it is taken; ``problems`` says what to correct."""

    def __init__(self, state: str, problems: list[Problem]) -> None:
        super().__init__("registration", state, "apply", problems_text(problems))
        self.problems = problems
