"""Parsers for what a reply says, chosen from an explicit registry.

Each parser states how well it fits a message (``score``) and reads it
(``parse``) into a frozen result with a confidence and human-readable
reasons. The inbound pipeline asks ``choose`` for the best fit; adding a kind
of object means adding a parser to ``REGISTRY``, nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from parsers.intent import read_invitation_answer
from parsers.mime.parsed_mail import ParsedMail
from parsers.order_reply.answer import LineRef
from parsers.order_reply.reader import read_order_answer
from parsers.quotes import reply_text
from parsers.registration_form import read_fields

__all__ = ["ParseContext", "ParseResult", "Parser", "InvitationReplyParser", "OrderReplyParser",
           "RegistrationReplyParser", "REGISTRY", "choose"]

log = logging.getLogger(__name__)

# What of the reply text is kept in a result (it is stored with the message).
MAX_REPLY_TEXT = 2000


@dataclass(frozen=True)
class ParseContext:
    mail: ParsedMail
    object_type: str | None
    known_texts: tuple[str, ...]
    # The day the message was written, in Japan: relative dates such as 明日 count from it.
    written_on: date
    # Orders: the lines ordered.
    order_lines: tuple[LineRef, ...] = ()
    # Registrations: what the reply is awaited for ("application" from the applicant, else the wholesaler's answer).
    awaiting: str = ""


@dataclass(frozen=True)
class ParseResult:
    parser: str
    confidence: float
    reasons: tuple[str, ...]
    data: Mapping[str, object]


class Parser(Protocol):
    name: str

    def score(self, ctx: ParseContext) -> float:
        """How well this parser fits the message, 0..1; 0 means not at all."""
        ...

    def parse(self, ctx: ParseContext) -> ParseResult:
        ...


class InvitationReplyParser:
    """A partner's answer to an invitation: approve / reject / hold, and a contact person."""

    name = "invitation_reply"

    def score(self, ctx: ParseContext) -> float:
        return 1.0 if ctx.object_type == "invitation" else 0.0

    def parse(self, ctx: ParseContext) -> ParseResult:
        text = reply_text(ctx.mail, ctx.known_texts)
        answer = read_invitation_answer(text, subject=ctx.mail.subject)
        log.debug("invitation reply %s: %s (%.2f)", ctx.mail.message_id, answer.intent, answer.confidence)
        return ParseResult(
            parser=self.name,
            confidence=answer.confidence,
            reasons=answer.reasons,
            data={
                "intent": answer.intent.value if answer.intent else None,
                "contact_person": answer.contact_person,
                "evidence": answer.evidence,
                "reply_text": text[:MAX_REPLY_TEXT],
            },
        )


class OrderReplyParser:
    """A supplier's answer to an order sheet: confirm / partial (quantities per line) / decline, and a delivery date."""

    name = "order_reply"

    def score(self, ctx: ParseContext) -> float:
        return 1.0 if ctx.object_type == "order" else 0.0

    def parse(self, ctx: ParseContext) -> ParseResult:
        text = reply_text(ctx.mail, ctx.known_texts)
        answer = read_order_answer(text, ctx.order_lines, written_on=ctx.written_on, subject=ctx.mail.subject)
        log.debug("order reply %s: %s (%.2f)", ctx.mail.message_id, answer.intent, answer.confidence)
        return ParseResult(
            parser=self.name,
            confidence=answer.confidence,
            reasons=answer.reasons,
            data={
                "intent": answer.intent.value if answer.intent else None,
                "quantities": {str(position): str(quantity) for position, quantity in answer.quantities.items()},
                "delivery_date": answer.delivery_date.isoformat() if answer.delivery_date else None,
                "evidence": answer.evidence,
                "reply_text": text[:MAX_REPLY_TEXT],
            },
        )


class RegistrationReplyParser:
    """A reply about a company ID application: the applicant's filled-in form, or the wholesaler's approval
    (承認 / 非承認, read like an invitation's answer, the lines after it as the reason)."""

    name = "registration_reply"

    def score(self, ctx: ParseContext) -> float:
        return 1.0 if ctx.object_type == "registration" else 0.0

    def parse(self, ctx: ParseContext) -> ParseResult:
        text = reply_text(ctx.mail, ctx.known_texts)
        if ctx.awaiting == "application":
            fields = read_fields(ctx.mail.text)
            return ParseResult(parser=self.name, confidence=1.0 if fields else 0.2,
                               reasons=() if fields else ("no field of the application form was filled in",),
                               data={"intent": "apply", "fields": fields, "reply_text": text[:MAX_REPLY_TEXT]})
        answer = read_invitation_answer(text, subject=ctx.mail.subject)
        intent = {"approve": "approve", "reject": "reject"}.get(answer.intent.value if answer.intent else "")
        reasons = answer.reasons if intent or answer.intent is None else (*answer.reasons, "neither 承認 nor 非承認")
        reason = "\n".join(line for line in text.split("\n")[1:] if line.strip()).strip()
        return ParseResult(parser=self.name, confidence=answer.confidence if intent else 0.0, reasons=reasons,
                           data={"intent": intent, "reason": reason[:500], "evidence": answer.evidence,
                                 "reply_text": text[:MAX_REPLY_TEXT]})


REGISTRY: tuple[Parser, ...] = (InvitationReplyParser(), OrderReplyParser(), RegistrationReplyParser())


def choose(ctx: ParseContext, registry: Sequence[Parser] = REGISTRY) -> Parser | None:
    """The parser with the highest score above 0; the first one listed on a tie."""
    best: Parser | None = None
    best_score = 0.0
    for parser in registry:
        score = parser.score(ctx)
        if score > best_score:
            best, best_score = parser, score
    return best
