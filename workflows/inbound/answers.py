"""Reading an answer and applying it to its object, or leaving it to an operator who decides.

A reply is read by the parser the registry chooses; a faxed-back form is read by OCR. Either
way an answer is applied only when it is clear enough (``min_confidence``); a refusal by the
object's state machine is kept on its timeline. An operator resolves what went to review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.registry import ParseContext, ParseResult, choose
from workflows import clock
from workflows.config import Settings
from workflows.db import Database
from workflows.errors import InvalidRequest, NotFound, TransitionRefused
from workflows.inbound.step import Outcome, Step, outcome_of
from workflows.models import FOR_OPERATOR, InboundMessage, InboundStatus, OutboundMessage
from workflows.registry import WORKFLOWS, load_object
from workflows.timeline import record


def read(step: Step) -> ParseResult | None:
    corr = step.correlation
    known = tuple(
        step.session.scalars(
            select(OutboundMessage.text).where(
                OutboundMessage.object_type == corr.object_type, OutboundMessage.object_id == corr.object_id
            )
        )
    )
    spec = WORKFLOWS.get(corr.object_type or "")
    obj = load_object(step.session, spec.object_type, corr.object_id) if spec and corr.object_id else None
    extra = spec.reply_context(step.session, obj) if spec and obj is not None else {}
    ctx = ParseContext(mail=step.mail, object_type=corr.object_type, known_texts=known,
                       written_on=clock.written_on(step.row.received_at, step.mail.date), **extra)
    parser = choose(ctx)
    return parser.parse(ctx) if parser else None


def _parse_record(result: ParseResult) -> dict[str, Any]:
    return {
        "parser": result.parser,
        "confidence": result.confidence,
        "reasons": list(result.reasons),
        "data": dict(result.data),
    }


def decide(step: Step, result: ParseResult | None) -> Outcome:
    if result is None:
        return outcome_of(step, InboundStatus.REVIEW, "reply", "no parser for this kind of message")
    intent = result.data.get("intent")
    return applied(step, "reply", "answer", intent, result.confidence, result.reasons, result.data,
                   _parse_record(result), f"{intent} applied")


def applied(step: Step, kind: str, what: str, intent: object, confidence: float, reasons: Sequence[str],
            details: Mapping[str, object], parse: dict[str, Any], done: str) -> Outcome:
    """Apply a reading's intent to the correlated object when it is clear enough; the outcome either way.

    ``what`` names the reading in a reason ("answer", "order sheet"); ``done`` is the reason on success.
    """
    if not isinstance(intent, str) or confidence < step.settings.min_confidence:
        why = "; ".join(reasons) or "unclear"
        return outcome_of(step, InboundStatus.REVIEW, kind, f"{what} unclear (confidence {confidence:.2f}): {why}",
                          parse)
    corr = step.correlation
    assert corr.object_type is not None and corr.object_id is not None
    try:
        apply_intent(step.session, step.settings, step.row, corr.object_type, corr.object_id, intent, details)
    except TransitionRefused as refused:
        return outcome_of(step, InboundStatus.REFUSED, kind, refused.reason, parse)
    except InvalidRequest as invalid:  # e.g. a shortfall naming more than was ordered
        return outcome_of(step, InboundStatus.REVIEW, kind, f"answer cannot be applied: {invalid}", parse)
    return outcome_of(step, InboundStatus.PROCESSED, kind, done, parse)


def apply_intent(session: Session, settings: Settings, row: InboundMessage, object_type: str, object_id: int,
                 intent: str, details: Mapping[str, object]) -> None:
    """Fire the intent on the object; a refusal is recorded on the timeline, then re-raised."""
    spec = WORKFLOWS[object_type]
    obj = load_object(session, object_type, object_id, lock=True)
    if obj is None:
        raise NotFound(f"{object_type} {object_id} does not exist")
    try:
        spec.answer(session, settings, obj, intent, inbound=row, details=details)
    except TransitionRefused as refused:
        record(session, object_type, object_id, "refused", f"{intent} refused: {refused.reason}",
               inbound_id=row.id, trigger=intent, state=refused.state)
        raise


def resolve(db: Database, settings: Settings, inbound_id: int, intent: str,
            details: Mapping[str, object] | None = None) -> InboundMessage:
    """An operator decides a message in review: apply ``intent`` (with its details) to its object."""
    with db.transaction() as session:
        row = _in_review(session, inbound_id)
        if not row.object_type or not row.object_id:
            raise InvalidRequest(f"message {inbound_id} belongs to no object; nothing to apply")
        spec = WORKFLOWS[row.object_type]
        if intent not in spec.answers:
            raise InvalidRequest(f"intent must be one of {sorted(spec.answers)}")
        try:
            apply_intent(session, settings, row, row.object_type, row.object_id, intent, details or {})
        except TransitionRefused as refused:
            raise InvalidRequest(refused.reason) from refused
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; resolved by an operator: {intent}"
        return row


def _in_review(session: Session, inbound_id: int) -> InboundMessage:
    row = session.get(InboundMessage, inbound_id, with_for_update=True)
    if row is None:
        raise NotFound(f"message {inbound_id} does not exist")
    if row.status not in FOR_OPERATOR:
        raise InvalidRequest(f"message {inbound_id} is {row.status}, not in review")
    return row


def dismiss(db: Database, inbound_id: int, reason: str) -> InboundMessage:
    """An operator decides a message in review is no answer at all: it changes nothing and leaves the queue.

    Also the way out for a message in review that belongs to no object (a form naming an unknown
    invitation), which no intent can be applied to.
    """
    reason = " ".join(reason.split())[:500] or "not an answer"
    with db.transaction() as session:
        row = _in_review(session, inbound_id)
        row.status = InboundStatus.IGNORED
        row.reason = f"{row.reason}; dismissed by an operator: {reason}"
        if row.object_type and row.object_id:
            record(session, row.object_type, row.object_id, "review", f"not an answer: {reason}",
                   inbound_id=row.id)
        return row
