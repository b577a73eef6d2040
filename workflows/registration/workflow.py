"""The registration workflow (manual 001) as a table: from the request to the issued company ID.

    requested ─apply→ applied ─approve→ issued
        │                 ├─reject→ rejected      (the applicant is told, with the wholesaler's reason)
        │                 ├─remind→ applied       (no answer in N days: the wholesaler is reminded)
        │                 └─lapse→ lapsed         (no answer N days after that: the applicant is told)
        └─expire→ expired (the 10-day link ran out unused)
    existing: the company has an ID already; the applicant is sent to its ID administrator.

Mails go out as effects of the transitions; every transition is on the registration's timeline.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from workflows import clock
from workflows.accounts import token_hash
from workflows.config import Settings
from workflows.machine import Machine, Refusal, Transition
from workflows.mail import MailAttachment, queue_mail
from workflows.models import InboundMessage
from workflows.registration.approval_sheet import approval_sheet
from workflows.registration.issuing import issue
from workflows.registration.models import Company, CompanyAccount, Registration
from workflows.timeline import record

OBJECT_TYPE = "registration"


@dataclass
class RegistrationContext:
    session: Session
    settings: Settings
    registration: Registration
    inbound: InboundMessage | None = None
    # Filled in by whoever fires: the application link, the approval link, the issued account ...
    extra: dict[str, Any] = field(default_factory=dict)
    source_state: str = ""


def reply_address(registration: Registration, settings: Settings) -> str:
    return f"reply+{registration.reply_token}@{settings.mail_domain}"


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/register/{token}"


def new_approval_link(settings: Settings, registration: Registration) -> str:
    """The wholesaler's page; a new one replaces the one before (only hashes are kept, none can be sent again)."""
    token = secrets.token_urlsafe(32)
    registration.approval_token_hash = token_hash(token)
    return f"{settings.public_url}/register/approve/{token}"


def reference(registration: Registration) -> str:
    return f"REG-{registration.id}"


def jst(moment: Any) -> str:
    return moment.astimezone(clock.TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


def queue(ctx: RegistrationContext, kind: str, to_addr: str, to_name: str = "", *, template: str | None = None,
          attachments: Sequence[MailAttachment] = (), **context: Any) -> None:
    reg, settings = ctx.registration, ctx.settings
    queue_mail(
        ctx.session, object_type=OBJECT_TYPE, object_id=reg.id, kind=kind, language=reg.language,
        context={"registration": reg, "reference": reference(reg), "reply_address": reply_address(reg, settings),
                 **context},
        to_addr=to_addr, to_name=to_name, from_addr=reply_address(reg, settings), from_name="Torii",
        domain=settings.mail_domain, reply_to=reply_address(reg, settings),
        in_reply_to=ctx.inbound.message_id if ctx.inbound else None,
        cause_inbound_id=ctx.inbound.id if ctx.inbound else None, hourly_limit=settings.mail_hourly_limit,
        attachments=attachments, template=template,
    )


def _ask_wholesaler(ctx: RegistrationContext, *, reminder: bool = False) -> None:
    reg = ctx.registration
    queue(ctx, "registration_wholesaler_reminder" if reminder else "registration_wholesaler_request",
          reg.wholesaler_email, reg.wholesaler_contact, template="registration_wholesaler_request",
          reminder=reminder, approve_url=ctx.extra.get("approve_url", ""), due_at=jst(reg.approval_due_at),
          attachments=[approval_sheet(ctx.settings, reg)])


def _remind_wholesaler(ctx: RegistrationContext) -> None:
    ctx.registration.reminded_at = clock.now()
    ctx.registration.approval_due_at = clock.now() + timedelta(days=ctx.settings.registration_approval_days)
    ctx.extra["approve_url"] = new_approval_link(ctx.settings, ctx.registration)
    _ask_wholesaler(ctx, reminder=True)


def _tell_rejected(ctx: RegistrationContext) -> None:
    ctx.registration.reason = ctx.extra.get("reason") or ctx.registration.reason
    queue(ctx, "registration_rejected", ctx.registration.applicant_email)


def _tell_lapsed(ctx: RegistrationContext) -> None:
    days = ctx.settings.registration_approval_days
    ctx.registration.reason = f"the wholesaler did not answer within {days:g} days and a reminder"
    queue(ctx, "registration_lapsed", ctx.registration.applicant_email, days=round(days * 2))


def _issue(ctx: RegistrationContext) -> None:
    company, account, password_url = issue(ctx.session, ctx.settings, ctx.registration)
    ctx.extra.update(company=company, account=account)
    _tell_complete(ctx, company, account, password_url)


def _tell_complete(ctx: RegistrationContext, company: Company, account: CompanyAccount, password_url: str) -> None:
    reg = ctx.registration
    for to_addr in dict.fromkeys([reg.admin_email, reg.applicant_email]):
        queue(ctx, "registration_complete", to_addr, reg.admin_name if to_addr == reg.admin_email else "",
              company_code=company.code, account_id=account.account_id, password_url=password_url,
              password_expires_at=jst(account.password_token_expires_at), login_url=ctx.settings.platform_login_url)
        password_url = ""  # the one-time link goes to the administrator only


WAITING = frozenset({"applied"})
MACHINE: Machine[RegistrationContext] = Machine(
    name="registration",
    states=("requested", "applied", "issued", "rejected", "lapsed", "expired", "existing"),
    initial="requested",
    final=frozenset({"issued", "rejected", "lapsed", "expired", "existing"}),
    transitions=(
        Transition("apply", frozenset({"requested"}), "applied", (_ask_wholesaler,)),
        Transition("expire", frozenset({"requested"}), "expired"),
        Transition("approve", WAITING, "issued", (_issue,)),
        Transition("reject", WAITING, "rejected", (_tell_rejected,)),
        Transition("remind", WAITING, "applied", (_remind_wholesaler,)),
        Transition("lapse", WAITING, "lapsed", (_tell_lapsed,)),
    ),
    refusals=(
        Refusal("apply", frozenset({"applied", "issued"}), "the application was sent already"),
        Refusal("apply", frozenset({"expired"}), "the application link has expired: mail us again to start over"),
        Refusal("approve", frozenset({"requested"}), "there is no application to approve yet"),
        Refusal("reject", frozenset({"requested"}), "there is no application to reject yet"),
        Refusal("approve", frozenset({"issued"}), "the company ID was issued already"),
        Refusal("reject", frozenset({"issued"}), "the company ID was issued already; it cannot be rejected now"),
        # 未 on the approval sheet: the wholesaler is still checking; the reminder and the lapse still run.
        Refusal("hold", WAITING, "the wholesaler will answer later; nothing changes"),
    ),
)


def fire(session: Session, settings: Settings, registration: Registration, trigger: str, *,
         inbound: InboundMessage | None = None, **extra: Any) -> RegistrationContext:
    ctx = RegistrationContext(session, settings, registration, inbound, dict(extra), registration.state)
    MACHINE.fire(registration, trigger, ctx)
    record(session, OBJECT_TYPE, registration.id, "transition", f"{trigger}: {ctx.source_state} → {registration.state}",
           inbound_id=inbound.id if inbound else None, trigger=trigger, source=ctx.source_state,
           dest=registration.state)
    return ctx


def masked(address: str) -> str:
    """An address shown to someone who may not have it: ``ta***@example.co.jp``."""
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}" if domain else "***"


def problems_text(problems: Sequence[tuple[str, str]]) -> str:
    return "; ".join(en for _ja, en in problems)
