"""Processing one inbound message: a short pipeline of named steps ending in a stored Outcome.

    parse MIME → classify (automatic or personal) → correlate (which object)
      → authenticate (is it the partner) → read (parser registry) → decide (apply or review)

Every run ends in exactly one status with a reason, written on the message row in
the same transaction as whatever the message caused. A message is processed at
most once: the row is locked and must still be ``received``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from parsers.authresults import SenderAuth, Verifier
from parsers.automatic import AutomaticVerdict, MailKind, classify_automatic
from parsers.fax_report import read_transmission_report
from parsers.mime import ParsedMail, parse_mail
from parsers.registry import ParseContext, ParseResult, choose
from workflows import clock, credential_answers
from workflows import fax_order as fax_orders
from workflows.bounces import apply_bounce
from workflows.config import Settings
from workflows.db import Database
from workflows.errors import InvalidRequest, NotFound, TransitionRefused
from workflows.fax_answers import FaxAnswer, read_pages
from workflows.fax_order import FaxPages
from workflows.faxes import finish_attempt
from workflows.models import (
    Document,
    FaxJob,
    FaxStatus,
    InboundMessage,
    InboundStatus,
    Invitation,
    Order,
    OutboundMessage,
    RawBlob,
)
from workflows.order import sheet_for
from workflows.order_documents import OrderSheet
from workflows.registry import WORKFLOWS, after_fax, find_by_reply_token, load_object
from workflows.timeline import record

if TYPE_CHECKING:  # the fax readers load OpenCV: only processes that read faxes import them
    from parsers.orderform import OrderFaxReading

log = logging.getLogger(__name__)

UNKNOWN_TOKEN = "unknown token"
CREDENTIALS = "temporary credentials"


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    kind: str
    reason: str | None
    object_type: str | None = None
    object_id: int | None = None
    parse: dict[str, Any] | None = None


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


def is_fax_order(rcpt_tos: Sequence[str], mail: ParsedMail, settings: Settings) -> bool:
    """Mail to the order fax address: the envelope's recipients, or To/Cc when there is no envelope."""
    return settings.fax_order_address in mail.recipients(rcpt_tos)



def process(db: Database, settings: Settings, inbound_id: int, verify_sender: Verifier | None = None
            ) -> Outcome | None:
    """Run the pipeline for one stored message; None when it was already processed.

    ``verify_sender`` checks DKIM and trusted Authentication-Results (it may ask DNS);
    without it the sender is judged by address alone.
    """
    with db.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            log.warning("process: inbound %s does not exist", inbound_id)
            return None
        if row.status != InboundStatus.RECEIVED:
            return None
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None
        raw, envelope_from, rcpt_tos, received_at = blob.data, row.mail_from, list(row.rcpt_tos), row.received_at
    # Parsing is the slow part and needs no lock: do it before the writing transaction.
    parsed: tuple[ParsedMail, AutomaticVerdict, SenderAuth | None, FaxAnswer | None, FaxPages | None] | Exception
    try:
        mail = parse_mail(raw)
        sender = verify_sender(raw, mail) if verify_sender else None
        # Fax pages (an order faxed to us, a returned fax-back form) are read here too: OCR takes seconds.
        fax, fax_order = None, None
        if is_fax_order(rcpt_tos, mail, settings):
            fax_order = fax_orders.read_delivery(mail, settings, received_at,
                                                 lambda form_id: fax_orders.form_spec(db, settings, form_id))
        elif not reply_tokens(rcpt_tos, mail, settings.mail_domain):
            fax = read_pages(mail, settings.secret_key, lambda order_id: _ordered_sheet(db, order_id))
        parsed = (mail, classify_automatic(mail, envelope_from), sender, fax, fax_order)
    except Exception as exc:
        parsed = exc
    with db.transaction() as session:
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None or row.status != InboundStatus.RECEIVED:
            return None  # another worker got there first
        try:
            with session.begin_nested():
                if isinstance(parsed, Exception):
                    raise parsed
                outcome = run(session, settings, row, *parsed)
        except SQLAlchemyError:
            raise  # the database itself failed: let the task be retried
        except Exception as exc:  # a bug or an input nobody foresaw: keep it for a person
            log.exception("process: inbound %s failed", inbound_id)
            outcome = Outcome(InboundStatus.REVIEW, row.kind or "unknown", f"internal error: {exc!r}"[:500],
                              row.object_type, row.object_id)
        _store_outcome(session, row, outcome)
        log.info("process: inbound %s → %s (%s)", inbound_id, outcome.status, outcome.reason)
        return outcome


def _ordered_sheet(db: Database, order_id: int) -> OrderSheet | None:
    """The order a returned order sheet names, as its sheet printed it (for reading the written quantities)."""
    with db.sessions() as session:
        found = session.get(Order, order_id)
        return sheet_for(session, found) if found is not None else None


def _store_outcome(session: Session, row: InboundMessage, outcome: Outcome) -> None:
    row.status = outcome.status
    row.kind = outcome.kind
    row.reason = outcome.reason
    row.object_type = outcome.object_type
    row.object_id = outcome.object_id
    row.parse = outcome.parse
    if outcome.status == InboundStatus.REVIEW and outcome.object_type and outcome.object_id:
        record(session, outcome.object_type, outcome.object_id, "review",
               f"sent to review: {outcome.reason}", inbound_id=row.id)


def run(session: Session, settings: Settings, row: InboundMessage, mail: ParsedMail,
        verdict: AutomaticVerdict, sender: SenderAuth | None = None, fax: FaxAnswer | None = None,
        fax_order: FaxPages | None = None) -> Outcome:
    step = Step(session, settings, row, mail, sender)
    if step.mail.from_addr:
        row.from_addr = step.mail.from_addr
    if fax_order is not None:
        return _fax_order(step, fax_order)
    fax_outcome = _fax_report(step)
    if fax_outcome is not None:
        return fax_outcome
    if verdict.kind == MailKind.BOUNCE:
        bounced, what = apply_bounce(session, settings, mail, row.rcpt_tos, row.id)
        if bounced is None:
            return _outcome(step, InboundStatus.IGNORED, "bounce", f"{verdict.reason}; {what}")
        step.correlation = Correlation(bounced.object_type, bounced.object_id, "bounce")
        _record_inbound(step)
        return _outcome(step, InboundStatus.PROCESSED, "bounce", what)
    # Fax pages before the auto-reply check: fax-to-email services mark their deliveries automatic.
    if fax is not None:
        return _order_fax_answer(step, fax.order) if fax.order is not None else _fax_answer(step, fax)
    step.correlation = correlate(step)
    corr = step.correlation
    _record_inbound(step)
    if verdict.kind != MailKind.PERSONAL:
        # Auto-replies and list mail never change state and are never answered.
        return _outcome(step, InboundStatus.IGNORED, verdict.kind.value, verdict.reason)
    if corr.object_type is None:
        return _outcome(step, corr.problem_status, "unknown", corr.problem)
    if corr.problem:
        return _outcome(step, corr.problem_status, "reply", corr.problem)
    problem = authenticate(step)
    if problem:
        return _outcome(step, InboundStatus.REVIEW, "reply", problem)
    return decide(step, read(step))


def _fax_report(step: Step) -> Outcome | None:
    """A fax service's transmission report for one of our jobs finishes that job's attempt."""
    if _tokens(step):
        return None  # mail to a reply address is a partner's, whatever it quotes
    mail = step.mail
    report = read_transmission_report(mail.subject, mail.text, (*mail.in_reply_to, *mail.references))
    if report is None or report.job_id is None:
        return None
    job = step.session.get(FaxJob, report.job_id, with_for_update=True)
    if job is None or job.status != FaxStatus.SENDING:
        return None
    finish_attempt(step.session, job, ok=report.ok, failure=report.failure, detail=report.detail,
                   backoff=step.settings.fax_retry_backoff,
                   inbound_id=step.row.id)
    after_fax(step.session, step.settings, job)
    step.correlation = Correlation(job.object_type, job.object_id, "fax report")
    _record_inbound(step)
    result = "sent" if report.ok else f"failed ({report.failure}), now {job.status}"
    return _outcome(step, InboundStatus.PROCESSED, "fax_report", f"fax job {job.id} {result}: {report.detail}")


def _fax_answer(step: Step, fax: FaxAnswer) -> Outcome:
    """A returned fax-back form: its code names the invitation, its ticked box is the answer.

    With code and reference both lost, the temporary ID read by OCR names it, if it is
    exactly one invitation's.
    """
    form = fax.form
    if form is None:
        return _outcome(step, InboundStatus.REVIEW, "fax", "fax: " + ("; ".join(fax.problems) or "no pages"))
    if form.invitation_id is not None:
        invitation = step.session.get(Invitation, form.invitation_id)
        if invitation is None:
            return _outcome(step, InboundStatus.REVIEW, "fax", f"fax: form of unknown invitation {form.invitation_id}")
        via = "fax-back form"
    else:
        invitation, problem = _invitation_by_temp_id(step.session, form.temp_id_lookups)
        if invitation is None:
            return _outcome(step, InboundStatus.REVIEW, "fax", problem)
        via = "temporary ID (OCR)"
    step.correlation = Correlation("invitation", invitation.id, via)
    _record_inbound(step)
    # The page and the contact field stay with the invitation, for whoever reviews or checks it.
    documents = [Document(object_type="invitation", object_id=invitation.id, kind="faxback_page",
                          filename=f"faxback-{step.row.id}.png", content_type="image/png", data=form.page_png)]
    if form.contact_image:
        documents.append(Document(object_type="invitation", object_id=invitation.id, kind="contact_field",
                                  filename=f"contact-{step.row.id}.png", content_type="image/png",
                                  data=form.contact_image))
    step.session.add_all(documents)
    step.session.flush()
    parse = {"fax": {"answer": form.answer, "confidence": form.confidence, "reasons": list(form.reasons),
                     "contact_text": form.contact_text, "documents": [d.id for d in documents],
                     "problems": list(fax.problems), "found_by": via}}
    if form.answer is None or form.confidence < step.settings.min_confidence:
        why = "; ".join(form.reasons) or "unclear"
        return _outcome(step, InboundStatus.REVIEW, "fax",
                        f"fax form unclear (confidence {form.confidence:.2f}): {why}", parse)
    try:
        _apply(step.session, step.settings, step.row, "invitation", invitation.id, form.answer,
               {"contact_person": form.contact_text})
    except TransitionRefused as refused:
        return _outcome(step, InboundStatus.REFUSED, "fax", refused.reason, parse)
    return _outcome(step, InboundStatus.PROCESSED, "fax", f"{form.answer} applied from the fax-back form", parse)


def _fax_order(step: Step, pages: FaxPages) -> Outcome:
    """An order a buyer faxed to the order fax number: read, matched, placed or put to review."""
    taken = fax_orders.take(step.session, step.settings, step.row, pages)
    step.correlation = Correlation(fax_orders.OBJECT_TYPE if taken.fax_order_id else None, taken.fax_order_id,
                                   "fax order")
    _record_inbound(step)
    return _outcome(step, taken.status, "fax_order", taken.reason, taken.parse)


def _invitation_by_temp_id(session: Session, lookups: Sequence[str]) -> tuple[Invitation | None, str]:
    """The one invitation whose temporary ID the OCR read on a fax page (as lookup keys), or why there is none."""
    found = list(session.scalars(select(Invitation).where(Invitation.temp_id_lookup.in_(lookups)))) if lookups else []
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, (f"fax: no code or reference readable on the page, and no invitation has the temporary ID "
                      f"read by OCR ({len(lookups)} reading(s))")
    return None, (f"fax: no code or reference readable on the page, and the temporary IDs read by OCR match "
                  f"{len(found)} invitations ({', '.join(str(i.id) for i in found)})")


def _order_fax_answer(step: Step, reading: OrderFaxReading) -> Outcome:
    """A faxed-back order sheet: its code names the order, its ticked box and written quantities are the answer."""
    assert reading.order_id is not None
    step.correlation = Correlation("order", reading.order_id, "faxed-back order sheet")
    _record_inbound(step)
    documents = [Document(object_type="order", object_id=reading.order_id, kind="faxback_page",
                          filename=f"faxback-{step.row.id}-{n}.png", content_type="image/png", data=png)
                 for n, png in enumerate(reading.page_pngs, start=1)]
    documents += [Document(object_type="order", object_id=reading.order_id, kind="faxback_field",
                           filename=f"{name.replace(':', '-')}-{step.row.id}.png", content_type="image/png", data=png)
                  for name, png in reading.field_pngs.items()]
    step.session.add_all(documents)
    step.session.flush()
    quantities = {str(position): str(quantity) for position, quantity in sorted(reading.quantities.items())}
    details: dict[str, object] = {"quantities": quantities,
                                  "delivery_date": reading.delivery_date.isoformat() if reading.delivery_date
                                  else None}
    parse = {"fax": {"answer": reading.answer, "confidence": reading.confidence, "reasons": list(reading.reasons),
                     "delivery_date_text": reading.delivery_date_text, "contact_text": reading.contact_text,
                     "pages": list(reading.pages), "documents": [d.id for d in documents]} | details}
    if reading.answer is None or reading.confidence < step.settings.min_confidence:
        why = "; ".join(reading.reasons) or "unclear"
        return _outcome(step, InboundStatus.REVIEW, "fax",
                        f"order sheet unclear (confidence {reading.confidence:.2f}): {why}", parse)
    try:
        _apply(step.session, step.settings, step.row, "order", reading.order_id, reading.answer, details)
    except TransitionRefused as refused:
        return _outcome(step, InboundStatus.REFUSED, "fax", refused.reason, parse)
    except InvalidRequest as invalid:
        return _outcome(step, InboundStatus.REVIEW, "fax", f"answer cannot be applied: {invalid}", parse)
    return _outcome(step, InboundStatus.PROCESSED, "fax", f"{reading.answer} applied from the faxed-back order sheet",
                    parse)


def _record_inbound(step: Step) -> None:
    corr, row = step.correlation, step.row
    if corr.object_type and corr.object_id:
        record(step.session, corr.object_type, corr.object_id, "inbound",
               f"mail from {step.mail.from_addr or row.mail_from}: {step.mail.subject[:120]}",
               inbound_id=row.id, via=corr.via, message_id=row.message_id)


def _outcome(step: Step, status: InboundStatus, kind: str, reason: str | None,
             parse: dict[str, Any] | None = None) -> Outcome:
    corr = step.correlation
    if step.mail.defects:
        # What was wrong with the MIME stays on the message for whoever reviews it.
        parse = (parse or {}) | {"defects": list(step.mail.defects)}
    if step.sender is not None:
        parse = (parse or {}) | {"sender_auth": step.sender.as_record()}
    return Outcome(status, kind, reason, corr.object_type, corr.object_id, parse)


_TOKEN_ADDRESS = re.compile(r"^reply\+([a-z0-9]+)@(.+)$")


def reply_tokens(rcpt_tos: Sequence[str], mail: ParsedMail, domain: str) -> list[str]:
    """Reply tokens in the envelope recipients; in To/Cc only when there is no envelope (files, IMAP)."""
    tokens = []
    for address in mail.recipients(rcpt_tos):
        match = _TOKEN_ADDRESS.match(address)
        if match and match.group(2) == domain:
            tokens.append(match.group(1))
    return tokens


def _tokens(step: Step) -> list[str]:
    return reply_tokens(step.row.rcpt_tos, step.mail, step.settings.mail_domain)


def _to_invite_address(step: Step) -> bool:
    """Temporary credentials are looked for only in mail to the address the letters give."""
    return step.settings.invite_address in step.mail.recipients(step.row.rcpt_tos)


def correlate(step: Step) -> Correlation:
    session = step.session
    referenced: OutboundMessage | None = None
    ids = [*step.mail.in_reply_to, *step.mail.references]
    if ids:
        referenced = session.scalars(
            select(OutboundMessage).where(OutboundMessage.message_id.in_(ids)).limit(1)
        ).first()
    tokens = _tokens(step)
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
    since = clock.now() - timedelta(hours=1)
    earlier = step.session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            or_(InboundMessage.from_addr == sender, InboundMessage.mail_from == sender),
            InboundMessage.reason.like(f"{UNKNOWN_TOKEN}%"),
            InboundMessage.received_at >= since,
        )
    ) or 0
    if earlier + 1 >= step.settings.token_guess_limit:
        return f"{UNKNOWN_TOKEN}; {sender} is locked out after {earlier + 1} unknown tokens within an hour"
    return UNKNOWN_TOKEN


def _locked_out(step: Step) -> bool:
    sender = step.mail.from_addr
    since = clock.now() - timedelta(hours=1)
    count = step.session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.from_addr == sender,
            InboundMessage.reason.like(f"{UNKNOWN_TOKEN}%"),
            InboundMessage.received_at >= since,
        )
    ) or 0
    return count >= step.settings.token_guess_limit


def _domain(address: str | None) -> str:
    return (address or "").rpartition("@")[2].lower()


def authenticate(step: Step) -> str | None:
    """Is the sender who the object expects? A reason when not, None when it is."""
    if step.mail.from_addr and _locked_out(step):
        return f"sender {step.mail.from_addr} is locked out after too many unknown tokens"
    if step.sender is not None and step.sender.failed:
        return "sender authentication failed: " + "; ".join(step.sender.reasons)
    corr = step.correlation
    spec = WORKFLOWS.get(corr.object_type or "")
    if spec is None or corr.object_id is None:
        return None
    # Right temporary credentials are the proof for paper invitations, whatever the address.
    if corr.via == CREDENTIALS:
        return None
    sender = step.mail.from_addr
    if sender is None:
        return "the reply has no readable From address"
    obj = load_object(step.session, spec.object_type, corr.object_id)
    expected = spec.expected_sender(step.session, obj) if obj is not None else None
    if not expected:
        return f"{sender} wrote about {spec.object_type} {corr.object_id}, which expects no answer by mail"
    if sender != expected.lower() and _domain(sender) != _domain(expected):
        return f"sender {sender} is not {spec.answerer} ({expected})"
    return None


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
        return _outcome(step, InboundStatus.REVIEW, "reply", "no parser for this kind of message")
    parse = _parse_record(result)
    intent = result.data.get("intent")
    if not isinstance(intent, str) or result.confidence < step.settings.min_confidence:
        why = "; ".join(result.reasons) or "unclear"
        return _outcome(step, InboundStatus.REVIEW, "reply",
                        f"answer unclear (confidence {result.confidence:.2f}): {why}", parse)
    corr = step.correlation
    assert corr.object_type is not None and corr.object_id is not None
    try:
        _apply(step.session, step.settings, step.row, corr.object_type, corr.object_id, intent, result.data)
    except TransitionRefused as refused:
        return _outcome(step, InboundStatus.REFUSED, "reply", refused.reason, parse)
    except InvalidRequest as invalid:  # e.g. a shortfall naming more than was ordered
        return _outcome(step, InboundStatus.REVIEW, "reply", f"answer cannot be applied: {invalid}", parse)
    return _outcome(step, InboundStatus.PROCESSED, "reply", f"{intent} applied", parse)


def _apply(session: Session, settings: Settings, row: InboundMessage, object_type: str, object_id: int,
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
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None:
            raise NotFound(f"message {inbound_id} does not exist")
        if row.status != InboundStatus.REVIEW:
            raise InvalidRequest(f"message {inbound_id} is {row.status}, not in review")
        if not row.object_type or not row.object_id:
            raise InvalidRequest(f"message {inbound_id} belongs to no object; nothing to apply")
        spec = WORKFLOWS[row.object_type]
        if intent not in spec.answers:
            raise InvalidRequest(f"intent must be one of {sorted(spec.answers)}")
        try:
            _apply(session, settings, row, row.object_type, row.object_id, intent, details or {})
        except TransitionRefused as refused:
            raise InvalidRequest(refused.reason) from refused
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; resolved by an operator: {intent}"
        return row
