"""Bounces: which of our mails failed, and what that means for its object.

A bounce names the message it answers through the VERP envelope recipient
(``bounce+<local part of our Message-ID>@domain``) or, failing that, through the
original headers it quotes. A hard bounce fails the outbound row for good and
tells its workflow (an invitation mail that cannot be delivered makes the
invitation ``undeliverable``); a soft bounce sends the row back to the queue,
for the sweep to try again after ``soft_bounce_delay``, up to ``SOFT_BOUNCE_RETRIES``
times. Delay warnings and delivery notices change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.bounce import BounceReport, read_bounce
from parsers.mime.parsed_mail import ParsedMail
from workflows import clock
from workflows.config import Settings
from workflows.models import OutboundMessage, OutboundStatus
from workflows.registry import WORKFLOWS, load_object
from workflows.timeline import record

SOFT_BOUNCE_RETRIES = 3


def find_bounced(session: Session, report: BounceReport, domain: str) -> OutboundMessage | None:
    # The envelope (VERP) is the server's own word; IDs read from quoted text come second.
    for candidates in ([f"{token}@{domain}" for token in report.verp_tokens], list(report.original_message_ids)):
        if candidates:
            found = session.scalars(
                select(OutboundMessage).where(OutboundMessage.message_id.in_(candidates)).limit(1)
            ).first()
            if found is not None:
                return found
    return None


def apply_bounce(session: Session, settings: Settings, mail: ParsedMail, rcpt_tos: Sequence[str],
                 inbound_id: int) -> tuple[OutboundMessage | None, str]:
    """Match a bounce to our outbound mail and act on it; returns the mail (if found) and what was done."""
    report = read_bounce(mail, rcpt_tos, settings.mail_domain)
    outbound = find_bounced(session, report, settings.mail_domain)
    detail = ", ".join(x for x in (report.status, report.diagnostic) if x) or report.shape
    if outbound is None:
        return None, f"bounce ({detail}) for no message of ours"
    session.refresh(outbound, with_for_update=True)
    if outbound.status == OutboundStatus.FAILED:
        return outbound, f"bounce for outbound {outbound.id}, already failed"
    if report.is_warning or not report.is_failure:
        # "Still trying" or "delivered/relayed": nothing failed, and sending again would send twice.
        record(session, outbound.object_type, outbound.object_id, "bounce",
               f"{outbound.kind} mail to {outbound.to_addr}: {report.action} notice, nothing to do: {detail}",
               inbound_id=inbound_id, outbound_id=outbound.id, status=report.status, shape=report.shape)
        return outbound, f"{report.action} notice for outbound {outbound.id}: {detail}"
    hard = report.permanent or outbound.attempts > SOFT_BOUNCE_RETRIES
    if hard:
        outbound.status = OutboundStatus.FAILED
        outbound.last_error = f"bounced: {detail}"
        summary = f"{outbound.kind} mail to {outbound.to_addr} bounced for good: {detail}"
    else:
        # Back to the queue; the sweep sends it again once the delay and its grace period are over.
        outbound.status = OutboundStatus.QUEUED
        outbound.claimed_at = clock.now() + timedelta(seconds=settings.soft_bounce_delay)
        outbound.last_error = f"soft bounce: {detail}"
        summary = f"{outbound.kind} mail to {outbound.to_addr} bounced softly, will retry: {detail}"
    record(session, outbound.object_type, outbound.object_id, "bounce", summary, inbound_id=inbound_id,
           outbound_id=outbound.id, permanent=hard, status=report.status, shape=report.shape)
    if hard:
        spec = WORKFLOWS.get(outbound.object_type)
        obj = load_object(session, outbound.object_type, outbound.object_id, lock=True)
        if spec is not None and obj is not None:
            spec.after_delivery(session, settings, obj, outbound)
    return outbound, summary
