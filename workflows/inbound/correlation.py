"""Which object an inbound message is about: its reply token, the mail it answers, or credentials.

A reply address (``reply+TOKEN@domain``) names the object; In-Reply-To or References naming
a message we sent does too; mail to the invitation address may carry temporary credentials.
A sender who keeps naming unknown tokens is guessing them and is locked out for a while.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from parsers.mime.parsed_mail import ParsedMail
from workflows import clock, credential_answers
from workflows.config import Settings
from workflows.inbound.step import Correlation, Step
from workflows.models import InboundMessage, InboundStatus, OutboundMessage
from workflows.registry import find_by_reply_token

UNKNOWN_TOKEN = "unknown token"
CREDENTIALS = "temporary credentials"

_TOKEN_ADDRESS = re.compile(r"^reply\+([a-z0-9]+)@(.+)$")


def is_fax_order(rcpt_tos: Sequence[str], mail: ParsedMail, settings: Settings) -> bool:
    """Mail to the order fax address: the envelope's recipients, or To/Cc when there is no envelope."""
    return settings.fax_order_address in mail.recipients(rcpt_tos)


def reply_tokens(rcpt_tos: Sequence[str], mail: ParsedMail, domain: str) -> list[str]:
    """Reply tokens in the envelope recipients; in To/Cc only when there is no envelope (files, IMAP)."""
    tokens = []
    for address in mail.recipients(rcpt_tos):
        match = _TOKEN_ADDRESS.match(address)
        if match and match.group(2) == domain:
            tokens.append(match.group(1))
    return tokens


def tokens_of(step: Step) -> list[str]:
    return reply_tokens(step.row.rcpt_tos, step.mail, step.settings.mail_domain)


def _to_invite_address(step: Step) -> bool:
    """Temporary credentials are looked for only in mail to the address the letters give."""
    return step.settings.invite_address in step.mail.recipients(step.row.rcpt_tos)


def correlate(step: Step) -> Correlation:
    """The object the message is about, or why it cannot be told (with the status that follows)."""
    session = step.session
    referenced: OutboundMessage | None = None
    ids = [*step.mail.in_reply_to, *step.mail.references]
    if ids:
        referenced = session.scalars(
            select(OutboundMessage).where(OutboundMessage.message_id.in_(ids)).limit(1)
        ).first()
    tokens = tokens_of(step)
    if tokens:
        found = find_by_reply_token(session, tokens)
        if found is None:
            return Correlation(None, None, "reply token", _unknown_token_reason(step),
                               InboundStatus.UNMATCHED)
        if referenced is not None and (referenced.object_type, referenced.object_id) != found:
            return Correlation(*found, "reply token", "reply token and In-Reply-To point at different objects")
        return Correlation(*found, "reply token")
    if referenced is not None:
        return Correlation(referenced.object_type, referenced.object_id, "In-Reply-To")
    answer = credential_answers.check(session, step.settings, step.row, step.mail.text,
                                      step.mail.from_addr or step.row.mail_from) if _to_invite_address(step) else None
    if answer is not None:
        return Correlation("invitation" if answer.invitation_id else None, answer.invitation_id,
                           CREDENTIALS, answer.problem, InboundStatus.REFUSED)
    return Correlation(None, None, "none", "no reply token, temporary credentials or reference to a message we sent",
                       InboundStatus.UNMATCHED)


def _unknown_token_reason(step: Step) -> str:
    sender = step.mail.from_addr or step.row.mail_from
    earlier = unknown_tokens_within_hour(step.session, sender, by_envelope=True)
    if earlier + 1 >= step.settings.token_guess_limit:
        return f"{UNKNOWN_TOKEN}; {sender} is locked out after {earlier + 1} unknown tokens within an hour"
    return UNKNOWN_TOKEN


def unknown_tokens_within_hour(session: Session, sender: str | None, *, by_envelope: bool) -> int:
    """How many messages from the sender named an unknown reply token in the last hour.

    ``by_envelope`` counts those whose envelope sender it was too, not only their From.
    """
    since = clock.now() - timedelta(hours=1)
    from_sender = (or_(InboundMessage.from_addr == sender, InboundMessage.mail_from == sender) if by_envelope
                   else InboundMessage.from_addr == sender)
    return session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            from_sender,
            InboundMessage.reason.like(f"{UNKNOWN_TOKEN}%"),
            InboundMessage.received_at >= since,
        )
    ) or 0
