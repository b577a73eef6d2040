"""A mail to the registration address asking for a company ID: the first step of manual 001 by mail.

The company is named in the body (``企業名：…`` / ``Company name: …``, the same labels as the
application form) or else in the subject, with words like 企業ID申請 left out. English mail gets
English answers. Replies to the gateway's registration mails carry a reply token and never come here.
"""

from __future__ import annotations

import re

from parsers.normalize import normalize_text
from parsers.registration_form import read_fields
from workflows import registration
from workflows.errors import InvalidRequest
from workflows.inbound.correlation import tokens_of
from workflows.inbound.step import Correlation, Outcome, Step, outcome_of, record_inbound
from workflows.models import InboundStatus

_SUBJECT_NOISE = re.compile(r"(?i)^(re|fw|fwd)\s*:|企業\s*id\s*(取得)?\s*(申請|のお願い)?|id\s*取得|新規|入会|"
                            r"申し?込み?|お願い|申請|registration|request|apply|application|company\s*id|for|[:：\[\]【】「」]")


def is_registration_request(step: Step) -> bool:
    return step.settings.registration_address in step.mail.recipients(step.row.rcpt_tos) and not tokens_of(step)


def _company_name(step: Step) -> str:
    named = read_fields(step.mail.text).get("company_name")
    if named:
        return named
    return " ".join(_SUBJECT_NOISE.sub(" ", normalize_text(step.mail.subject or "")).split())


def _language(text: str) -> str:
    letters = [c for c in text if not c.isspace()]
    return "en" if letters and sum(c.isascii() for c in letters) / len(letters) > 0.9 else "ja"


def on_registration_request(step: Step) -> Outcome:
    applicant = step.mail.from_addr or step.row.mail_from or ""
    name = _company_name(step)
    try:
        started = registration.start(step.session, step.settings, applicant_email=applicant, company_name=name,
                                     channel="mail", language=_language(f"{step.mail.subject}\n{step.mail.text}"),
                                     inbound=step.row)
    except InvalidRequest as exc:
        return outcome_of(step, InboundStatus.REVIEW, "registration", f"registration request not understood: {exc}")
    reg = started.registration
    step.correlation = Correlation(registration.OBJECT_TYPE, reg.id, "registration address")
    record_inbound(step)
    if started.link is None:
        return outcome_of(step, InboundStatus.PROCESSED, "registration",
                          f"{reg.company_name} has a company ID already; the applicant is sent to its ID administrator")
    return outcome_of(step, InboundStatus.PROCESSED, "registration",
                      f"registration requested for {reg.company_name}; the terms and the application link sent")
