"""The invitation (招待) workflow, after manual 000.

An issuer invites a partner who is not on the platform. The partner answers
済 (approve), 非 (reject) or 未 (hold). Approved is final; a rejection sends the
issuer a rejection notice (非承認通知メール); going from held to rejected keeps
the contact person; issuers that need no approval connect at once. The manual
locks only ``approved``, so a rejected invitation may still be approved or held.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from workflows.config import Settings
from workflows.credentials import hash_secret, lookup_key, new_temporary_credentials
from workflows.errors import InvalidRequest
from workflows.faxes import queue_fax
from workflows.letters import reference_for, render_letter
from workflows.machine import Machine, Refusal, Transition
from workflows.mail import queue_mail
from workflows.models import Document, FaxJob, FaxStatus, InboundMessage, Invitation, OutboundMessage, OutboundStatus
from workflows.timeline import record

OBJECT_TYPE = "invitation"
CHANNELS = ("email", "fax", "postcard")


@dataclass
class InvitationContext:
    session: Session
    settings: Settings
    invitation: Invitation
    inbound: InboundMessage | None = None
    contact_person: str | None = None
    source_state: str = field(default="")


def reply_address(invitation: Invitation, settings: Settings) -> str:
    return f"reply+{invitation.reply_token}@{settings.mail_domain}"


def new_reply_token() -> str:
    # 120 random bits, lower-case base32: survives mail systems that fold the local part's case.
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def _mail_context(invitation: Invitation, settings: Settings) -> dict[str, Any]:
    return {"invitation": invitation, "reply_address": reply_address(invitation, settings)}


def _set_contact(ctx: InvitationContext) -> None:
    if ctx.contact_person:
        ctx.invitation.contact_person = ctx.contact_person


def _set_contact_unless_held(ctx: InvitationContext) -> None:
    # Manual 000: 未承認から非承認に変更した場合、自社の担当者は変更されません。
    if ctx.source_state != "held":
        _set_contact(ctx)


def _queue(session: Session, settings: Settings, inv: Invitation, kind: str, *, to_issuer: bool = False,
           inbound: InboundMessage | None = None) -> None:
    """Queue one of the invitation's mails; replies to any of them come back to the invitation."""
    if to_issuer:
        to_addr, to_name = inv.issuer_email, inv.issuer_name
        from_addr, from_name = settings.from_address, "Torii"
    else:
        to_addr, to_name = inv.partner_email, inv.partner_name
        from_addr, from_name = reply_address(inv, settings), inv.issuer_company
    queue_mail(
        session,
        object_type=OBJECT_TYPE,
        object_id=inv.id,
        kind=kind,
        language=inv.language,
        context=_mail_context(inv, settings),
        to_addr=to_addr,
        to_name=to_name,
        from_addr=from_addr,
        from_name=from_name,
        domain=settings.mail_domain,
        reply_to=reply_address(inv, settings),
        in_reply_to=inbound.message_id if inbound else None,
        cause_inbound_id=inbound.id if inbound else None,
        hourly_limit=settings.mail_hourly_limit,
    )


def _send_rejection_notice(ctx: InvitationContext) -> None:
    _queue(ctx.session, ctx.settings, ctx.invitation, "rejection_notice", to_issuer=True, inbound=ctx.inbound)


def _tell_partner_already_approved(ctx: InvitationContext) -> None:
    _queue(ctx.session, ctx.settings, ctx.invitation, "already_approved", inbound=ctx.inbound)


ANSWERABLE = frozenset({"issued", "sent"})

MACHINE: Machine[InvitationContext] = Machine(
    name="invitation",
    states=("issued", "sent", "approved", "rejected", "held", "undeliverable"),
    initial="issued",
    final=frozenset({"approved"}),
    transitions=(
        Transition("connect", frozenset({"issued"}), "approved"),
        Transition("delivered", frozenset({"issued"}), "sent"),
        Transition("approve", ANSWERABLE | {"held", "rejected"}, "approved", (_set_contact,)),
        Transition(
            "reject", ANSWERABLE | {"held"}, "rejected", (_set_contact_unless_held, _send_rejection_notice)
        ),
        Transition("hold", ANSWERABLE | {"rejected"}, "held", (_set_contact,)),
        Transition("undeliverable", frozenset({"issued", "sent"}), "undeliverable"),
    ),
    refusals=(
        Refusal("approve", frozenset({"approved"}), "the invitation is already approved"),
        Refusal(
            "reject",
            frozenset({"approved"}),
            "the invitation is already approved and can no longer be rejected",
            (_tell_partner_already_approved,),
        ),
        Refusal(
            "hold",
            frozenset({"approved"}),
            "the invitation is already approved and can no longer be put on hold",
            (_tell_partner_already_approved,),
        ),
        Refusal("reject", frozenset({"rejected"}), "the invitation is already rejected"),
        Refusal("hold", frozenset({"held"}), "the invitation is already on hold"),
    ),
)


def fire(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    trigger: str,
    *,
    inbound: InboundMessage | None = None,
    contact_person: str | None = None,
) -> None:
    """Apply one event and record the transition; raises TransitionRefused, having run its effects."""
    ctx = InvitationContext(
        session=session,
        settings=settings,
        invitation=invitation,
        inbound=inbound,
        contact_person=contact_person,
        source_state=invitation.state,
    )
    MACHINE.fire(invitation, trigger, ctx)
    record(
        session,
        OBJECT_TYPE,
        invitation.id,
        "transition",
        f"{trigger}: {ctx.source_state} → {invitation.state}",
        inbound_id=inbound.id if inbound else None,
        trigger=trigger,
        source=ctx.source_state,
        dest=invitation.state,
        contact_person=invitation.contact_person,
    )


def answer(session: Session, settings: Settings, invitation: Invitation, trigger: str, *,
           inbound: InboundMessage | None = None, details: Mapping[str, object] | None = None) -> None:
    """The partner's answer (from a mail, a fax-back form or an operator), with the contact person it names."""
    contact = (details or {}).get("contact_person")
    fire(session, settings, invitation, trigger, inbound=inbound,
         contact_person=contact if isinstance(contact, str) and contact.strip() else None)


def _text(body: dict[str, Any], section: str, key: str, *, required: bool = True) -> str:
    part = body.get(section)
    if not isinstance(part, dict):
        raise InvalidRequest(f"{section} must be an object")
    value = part.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequest(f"{section}.{key} is required")
    if "\n" in value or "\r" in value:
        raise InvalidRequest(f"{section}.{key} must be one line")
    return value.strip()


def _email(body: dict[str, Any], section: str) -> str:
    value = _text(body, section, "email")
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise InvalidRequest(f"{section}.email is not an email address")
    return value


def create(session: Session, settings: Settings, body: dict[str, Any]) -> Invitation:
    """Create an invitation from an API body and queue what reaches the partner: a mail, or a paper letter."""
    channel = body.get("channel", "email")
    if channel not in CHANNELS:
        raise InvalidRequest(f"channel must be one of {', '.join(CHANNELS)}")
    paper = channel != "email"
    language = body.get("language", "ja")
    if language not in ("ja", "en"):
        raise InvalidRequest("language must be 'ja' or 'en'")
    approval_required = body.get("approval_required", True)
    if not isinstance(approval_required, bool):
        raise InvalidRequest("approval_required must be true or false")
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise InvalidRequest("comment must be a string")
    invitation = Invitation(
        issuer_company=_text(body, "issuer", "company"),
        issuer_name=_text(body, "issuer", "name"),
        issuer_email=_email(body, "issuer"),
        partner_company=_text(body, "partner", "company"),
        partner_name=_text(body, "partner", "name"),
        # A paper invitation's partner may have no email address: the credentials prove who answers.
        partner_email=_email(body, "partner") if not paper or _has(body, "partner", "email") else "",
        fax_number=_fax_number(body) if channel == "fax" else None,
        channel=channel,
        approval_required=approval_required,
        comment=comment,
        language=language,
        state=MACHINE.initial,
        reply_token=new_reply_token(),
    )
    session.add(invitation)
    session.flush()
    record(
        session,
        OBJECT_TYPE,
        invitation.id,
        "created",
        f"invitation from {invitation.issuer_company} to {invitation.partner_company}",
        approval_required=approval_required,
    )
    if not approval_required:
        fire(session, settings, invitation, "connect")
    if paper:
        _send_letter(session, settings, invitation)
    else:
        _queue(session, settings, invitation, "invitation")
    return invitation


def _has(body: dict[str, Any], section: str, key: str) -> bool:
    part = body.get(section)
    return isinstance(part, dict) and bool(str(part.get(key) or "").strip())


def _fax_number(body: dict[str, Any]) -> str:
    try:
        return normalize_fax_number(_text(body, "partner", "fax"))
    except BadFaxNumber as exc:
        raise InvalidRequest(f"partner.fax: {exc}") from exc


def _send_letter(session: Session, settings: Settings, invitation: Invitation) -> None:
    """The paper invitation: temporary credentials (kept only as hashes), the letter PDF, the fax job."""
    temp_id, temp_password = new_temporary_credentials()
    invitation.temp_id_lookup = lookup_key(temp_id, settings.secret_key)
    invitation.temp_password_hash = hash_secret(temp_password)
    layout: Literal["fax", "postcard"] = "fax" if invitation.channel == "fax" else "postcard"
    pdf = render_letter(invitation, temp_id, temp_password, layout=layout, language=invitation.language,
                        reference=reference_for(invitation.id, settings.secret_key),
                        reply_address=settings.invite_address, fax_number=settings.fax_number)
    session.add(Document(object_type=OBJECT_TYPE, object_id=invitation.id, kind="letter",
                         filename=f"invitation-{invitation.id}-{layout}.pdf", content_type="application/pdf",
                         data=pdf))
    record(session, OBJECT_TYPE, invitation.id, "document", f"{layout} letter rendered ({len(pdf)} bytes)")
    if invitation.fax_number:
        queue_fax(session, object_type=OBJECT_TYPE, object_id=invitation.id, kind="invitation_letter",
                  number=invitation.fax_number, title=f"ご招待 INV-{invitation.id}", pdf=pdf)


def after_fax(session: Session, settings: Settings, invitation: Invitation, job: FaxJob) -> None:
    """The letter was faxed (issued → sent), or could not be (→ undeliverable)."""
    if job.kind != "invitation_letter" or job.status not in (FaxStatus.SENT, FaxStatus.FAILED):
        return
    trigger = "delivered" if job.status == FaxStatus.SENT else "undeliverable"
    if MACHINE.allows(invitation.state, trigger):
        fire(session, settings, invitation, trigger)


def posted(session: Session, settings: Settings, invitation: Invitation) -> None:
    """An operator posted the printed postcard; nothing tells us more about a postcard's delivery."""
    if invitation.channel != "postcard":
        raise InvalidRequest(f"invitation {invitation.id} goes by {invitation.channel}, not by post")
    if invitation.state != "issued":
        raise InvalidRequest(f"invitation {invitation.id} is {invitation.state}; only an issued postcard is posted")
    record(session, OBJECT_TYPE, invitation.id, "posted", "postcard printed and posted")
    fire(session, settings, invitation, "delivered")


def after_delivery(session: Session, settings: Settings, invitation: Invitation, outbound: OutboundMessage) -> None:
    """The invitation mail was delivered (issued → sent) or failed for good (→ undeliverable)."""
    if outbound.kind != "invitation":
        return
    trigger = "delivered" if outbound.status == OutboundStatus.SENT else "undeliverable"
    if MACHINE.allows(invitation.state, trigger):
        fire(session, settings, invitation, trigger)
