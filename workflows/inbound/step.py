"""What the inbound pipeline knows about one message as it goes, and the Outcome it ends in.

Every step that settles a message ends it through ``outcome_of``, so that the MIME defects
and the sender's authentication results are kept on the message whatever the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from parsers.authresults import SenderAuth
from parsers.mime.parsed_mail import ParsedMail
from workflows.config import Settings
from workflows.models import InboundMessage, InboundStatus
from workflows.timeline import record


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    kind: str
    reason: str | None
    object_type: str | None = None
    object_id: int | None = None
    parse: dict[str, Any] | None = None
    # Seconds of business time from receipt to this outcome; set by the pipeline as it stores it.
    latency: float | None = None


@dataclass(frozen=True)
class Correlation:
    object_type: str | None
    object_id: int | None
    via: str  # how it was found: "reply token", "In-Reply-To", ...
    problem: str | None = None  # set when the message claims an object it may not belong to
    problem_status: InboundStatus = InboundStatus.REVIEW


@dataclass
class Step:
    """What the pipeline knows so far about one message."""

    session: Session
    settings: Settings
    row: InboundMessage
    mail: ParsedMail
    sender: SenderAuth | None = None
    correlation: Correlation = field(default_factory=lambda: Correlation(None, None, "none"))


def record_inbound(step: Step) -> None:
    """The message on the timeline of the object it was found to be about."""
    corr, row = step.correlation, step.row
    if corr.object_type and corr.object_id:
        record(step.session, corr.object_type, corr.object_id, "inbound",
               f"mail from {step.mail.from_addr or row.mail_from}: {step.mail.subject[:120]}",
               inbound_id=row.id, via=corr.via, message_id=row.message_id)


def outcome_of(step: Step, status: InboundStatus, kind: str, reason: str | None,
               parse: dict[str, Any] | None = None) -> Outcome:
    corr = step.correlation
    if step.mail.defects:
        # What was wrong with the MIME stays on the message for whoever reviews it.
        parse = (parse or {}) | {"defects": list(step.mail.defects)}
    if step.sender is not None:
        parse = (parse or {}) | {"sender_auth": step.sender.as_record()}
    return Outcome(status, kind, reason, corr.object_type, corr.object_id, parse)

