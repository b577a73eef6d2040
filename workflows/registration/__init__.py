"""Registration by mail, API and fax (manual 001): a supplier off the platform gets its company ID.

    workflow  the state machine and the mails its transitions send
    applying  the request (company search), the 10-day link, the application and its checks
    issuing   company IDs, account IDs (999 a company), the one-time password link
    timers    the wholesaler's reminder and the lapse, expired links
    models    the rows

A request arrives by mail to ``registration_address``, by ``POST /api/registrations`` or by fax; the
applicant answers on the link's page or by replying with the form's fields; the wholesaler approves by
reply (sender-checked, read like an invitation's answer) or on its own link's page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from workflows.config import Settings
from workflows.models import InboundMessage, OutboundMessage
from workflows.registration.applying import apply, start
from workflows.registration.models import Company, CompanyAccount, Registration
from workflows.registration.workflow import MACHINE, OBJECT_TYPE, fire

__all__ = ["MACHINE", "OBJECT_TYPE", "Company", "CompanyAccount", "Registration", "answer", "apply",
           "expected_sender", "fire", "reply_context", "start"]

ANSWERS = frozenset({"apply", "approve", "reject"})


def expected_sender(_session: Session, registration: Registration) -> str | None:
    """Who may answer by mail now: the applicant with its application, then the wholesaler's contact."""
    if registration.state == "requested":
        return registration.applicant_email
    if registration.state == "applied":
        return registration.wholesaler_email or None
    return None


def reply_context(_session: Session, registration: Registration) -> dict[str, Any]:
    return {"awaiting": "application" if registration.state == "requested" else "approval"}


def answer(session: Session, settings: Settings, registration: Registration, trigger: str, *,
           inbound: InboundMessage | None = None, details: Mapping[str, object] | None = None) -> None:
    """An answer read from a reply or decided by an operator: the application, or the wholesaler's decision."""
    details = details or {}
    if trigger == "apply":
        fields = details.get("fields")
        apply(session, settings, registration, fields if isinstance(fields, dict) else {}, inbound=inbound)
        return
    reason = details.get("reason")
    fire(session, settings, registration, trigger, inbound=inbound, reason=reason if isinstance(reason, str) else None)


def after_delivery(_session: Session, _settings: Settings, _registration: Registration,
                   _outbound: OutboundMessage) -> None:
    """Nothing waits on a registration mail's delivery: the applicant acts on it, or the timers do."""
