"""The wholesaler's approval sheet: the application on a page with the fax-back form of the invitation
letters (the same geometry, so the same reader), sent with the request mail to print, tick and fax back.

Its code, ``TORII-REG-<id>-<check>``, names the registration and cannot be forged without the secret
key; a ticked 済 approves, 非 rejects, 未 (checking) changes nothing.
"""

from __future__ import annotations

from workflows.config import Settings
from workflows.letters import REGISTRATION_REFERENCES, render_form_page
from workflows.mail import MailAttachment
from workflows.registration.models import Registration


def sheet_reference(registration_id: int, secret: bytes) -> str:
    return REGISTRATION_REFERENCES.make(registration_id, secret)


def registration_of_reference(text: str, secret: bytes) -> int | None:
    return REGISTRATION_REFERENCES.parse(text, secret)


def approval_sheet(settings: Settings, registration: Registration) -> MailAttachment:
    language = registration.language if registration.language in ("ja", "en") else "ja"
    pdf = render_form_page(f"letters/registration_approval.{language}.html",
                           {"registration": registration, "registration_reference": f"REG-{registration.id}",
                            "fax_number": settings.fax_number},
                           reference=sheet_reference(registration.id, settings.secret_key), language=language)
    return MailAttachment(f"approval-REG-{registration.id}.pdf", "application/pdf", pdf)
