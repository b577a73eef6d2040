"""Processing one inbound message: a short pipeline of named steps ending in a stored Outcome.

    parse MIME → classify (automatic or personal) → correlate (which object)
      → authenticate (is it the partner) → read (parser registry) → decide (apply or review)

Every run ends in exactly one status with a reason, written on the message row in
the same transaction as whatever the message caused. A message is processed at
most once: the row is locked and must still be ``received``.

The reading runs within the limits of ``settings.limits`` (``parsers.limits``): a message over one
goes to review with the reason "too large: ...". Each run is an attempt claimed on the row first
(``attempts``): a message whose runs keep killing their worker ends ``failed``, never stuck.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from parsers import limits
from parsers.authresults import SenderAuth, Verifier
from parsers.automatic import AutomaticVerdict, MailKind, classify_automatic
from parsers.errors import TooLarge
from parsers.mime.parse import parse_mail
from parsers.mime.parsed_mail import ParsedMail
from workflows import clock
from workflows import fax_order as fax_orders
from workflows.bounces import apply_bounce
from workflows.config import Settings
from workflows.db import Database
from workflows.fax_answers import FaxAnswer, read_pages
from workflows.fax_order.pages import FaxPages
from workflows.inbound import attempts
from workflows.inbound.answers import decide, read
from workflows.inbound.correlation import correlate, is_fax_order, reply_tokens
from workflows.inbound.faxes import on_fax_order, on_fax_report, on_faxback_form, on_faxed_back_sheet
from workflows.inbound.registrations import is_registration_request, on_registration_request
from workflows.inbound.sender import authenticate
from workflows.inbound.step import Correlation, Outcome, Step, outcome_of, record_inbound
from workflows.models import InboundMessage, InboundStatus, Order
from workflows.order.records import sheet_for
from workflows.order_documents.sheets import OrderSheet
from workflows.timeline import record

log = logging.getLogger(__name__)


def process(db: Database, settings: Settings, inbound_id: int, verify_sender: Verifier | None = None
            ) -> Outcome | None:
    """Run the pipeline for one stored message; None when it was already processed (or is being processed).

    ``verify_sender`` checks DKIM and trusted Authentication-Results (it may ask DNS);
    without it the sender is judged by address alone.
    """
    claimed = attempts.claim(db, settings, inbound_id)
    if not isinstance(claimed, attempts.Claim):
        return claimed  # None, or failed: begun too many times by workers that died
    with attempts.held(db, settings, inbound_id):
        # Parsing is the slow part and needs no lock: do it before the writing transaction, within the limits.
        parsed: _Parsed | Exception
        try:
            with limits.reading(settings.limits):
                parsed = _read(db, settings, claimed, verify_sender)
        except Exception as exc:
            parsed = exc
        try:
            return _store(db, settings, inbound_id, claimed, parsed)
        except SQLAlchemyError:
            attempts.release(db, inbound_id)  # the database failed, not the worker: this attempt does not count
            raise  # the task is retried


_Parsed = tuple[ParsedMail, AutomaticVerdict, SenderAuth | None, FaxAnswer | None, FaxPages | None]


def _read(db: Database, settings: Settings, claimed: attempts.Claim, verify_sender: Verifier | None) -> _Parsed:
    mail = parse_mail(claimed.raw)
    if mail.too_large:
        raise TooLarge(mail.too_large)
    sender = verify_sender(claimed.raw, mail) if verify_sender else None
    # Fax pages (an order faxed to us, a returned fax-back form) are read here too: OCR takes seconds.
    fax, fax_order = None, None
    if is_fax_order(claimed.rcpt_tos, mail, settings):
        fax_order = fax_orders.read_delivery(mail, settings, claimed.received_at,
                                             lambda form_id: fax_orders.form_spec(db, settings, form_id))
    elif not reply_tokens(claimed.rcpt_tos, mail, settings.mail_domain):
        fax = read_pages(mail, settings.secret_key, lambda order_id: _ordered_sheet(db, order_id))
    return mail, classify_automatic(mail, claimed.mail_from), sender, fax, fax_order


def _store(db: Database, settings: Settings, inbound_id: int, claimed: attempts.Claim,
           parsed: _Parsed | Exception) -> Outcome | None:
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
        except TooLarge as exc:  # over a reading limit: nothing was read that could be trusted; a person looks
            log.warning("process: inbound %s: %s", inbound_id, exc.reason)
            outcome = Outcome(InboundStatus.REVIEW, row.kind or "unknown", exc.reason[:2000], row.object_type,
                              row.object_id)
        except Exception as exc:  # a bug or an input nobody foresaw: keep it for a person
            log.exception("process: inbound %s failed", inbound_id)
            outcome = Outcome(InboundStatus.REVIEW, row.kind or "unknown", f"internal error: {exc!r}"[:500],
                              row.object_type, row.object_id)
        _store_outcome(session, row, outcome)
        log.info("process: inbound %s → %s (%s)", inbound_id, outcome.status, outcome.reason)
        return replace(outcome, latency=(clock.now() - claimed.received_at).total_seconds())


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
        return on_fax_order(step, fax_order)
    fax_outcome = on_fax_report(step)
    if fax_outcome is not None:
        return fax_outcome
    if verdict.kind == MailKind.BOUNCE:
        bounced, what = apply_bounce(session, settings, mail, row.rcpt_tos, row.id)
        if bounced is None:
            return outcome_of(step, InboundStatus.IGNORED, "bounce", f"{verdict.reason}; {what}")
        step.correlation = Correlation(bounced.object_type, bounced.object_id, "bounce")
        record_inbound(step)
        return outcome_of(step, InboundStatus.PROCESSED, "bounce", what)
    # Fax pages before the auto-reply check: fax-to-email services mark their deliveries automatic.
    if fax is not None:
        return on_faxed_back_sheet(step, fax.order) if fax.order is not None else on_faxback_form(step, fax)
    if verdict.kind == MailKind.PERSONAL and is_registration_request(step):
        return on_registration_request(step)
    step.correlation = correlate(step)
    corr = step.correlation
    record_inbound(step)
    if verdict.kind != MailKind.PERSONAL:
        # Auto-replies and list mail never change state and are never answered.
        return outcome_of(step, InboundStatus.IGNORED, verdict.kind.value, verdict.reason)
    if corr.object_type is None:
        return outcome_of(step, corr.problem_status, "unknown", corr.problem)
    if corr.problem:
        return outcome_of(step, corr.problem_status, "reply", corr.problem)
    problem = authenticate(step)
    if problem:
        return outcome_of(step, InboundStatus.REVIEW, "reply", problem)
    return decide(step, read(step))
