"""Answers to paper invitations by fax: the returned fax-back form, read from its page images.

The form names its invitation by the QR code (or the printed reference, read by
OCR); the ticked box is the answer and the contact field the contact person.
Reading pages is slow (OCR), so it happens before the database transaction:
``read_pages`` is pure, and ``Step`` only applies what it found.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from parsers.mime import Attachment, ParsedMail

log = logging.getLogger(__name__)

FAX_TYPES = ("application/pdf", "image/tiff", "image/png", "image/jpeg", "image/gif")
MAX_PAGES = 20


@dataclass(frozen=True)
class PageReading:
    invitation_id: int | None
    answer: str | None  # approve, reject, hold
    confidence: float
    reasons: tuple[str, ...]
    contact_text: str | None
    contact_image: bytes | None
    page_png: bytes


@dataclass(frozen=True)
class FaxAnswer:
    """What the fax pages of one mail said: the form page found, or why none was."""

    form: PageReading | None
    problems: tuple[str, ...]


def fax_attachments(mail: ParsedMail) -> list[Attachment]:
    return [a for a in mail.attachments if a.content_type.lower() in FAX_TYPES
            or (a.filename or "").lower().endswith((".pdf", ".tif", ".tiff"))]


def _png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # type: ignore[attr-defined]
    return out.getvalue()


def read_pages(mail: ParsedMail, secret: bytes) -> FaxAnswer | None:
    """Read every fax page of the mail; None when it carries no fax pages at all."""
    attachments = fax_attachments(mail)
    if not attachments:
        return None
    # Imported here: OpenCV, pypdfium2 and zxing load only in processes that read faxes.
    from parsers.faxform import read_faxback
    from parsers.imaging import UnreadablePage, pages_from_attachment
    from workflows.letters import faxback_geometry, parse_reference

    geometry = faxback_geometry()
    problems: list[str] = []
    readings: list[PageReading] = []
    for attachment in attachments:
        try:
            pages = pages_from_attachment(attachment.data, attachment.content_type, attachment.filename,
                                          refuse_encrypted=True)
        except UnreadablePage as exc:
            problems.append(f"{attachment.filename or attachment.content_type}: unparseable: {exc.reason}")
            continue
        for number, page in enumerate(pages[:MAX_PAGES], start=1):
            reading = read_faxback(page, geometry, reference_check=lambda t: parse_reference(t, secret) is not None)
            invitation_id = parse_reference(reading.reference, secret) if reading.reference else None
            readings.append(PageReading(
                invitation_id=invitation_id,
                answer=reading.answer.value if reading.answer else None,
                confidence=reading.confidence,
                reasons=tuple(reading.reasons),
                contact_text=(reading.contact_text or "").strip() or None,
                contact_image=reading.contact_image,
                page_png=_png(page),
            ))
            if invitation_id is None:
                problems.append(f"page {number}: no fax-back form found ({'; '.join(reading.reasons) or 'no code'})")
        if len(pages) > MAX_PAGES:
            problems.append(f"{attachment.filename}: only the first {MAX_PAGES} of {len(pages)} pages were read")
    forms = [r for r in readings if r.invitation_id is not None]
    return FaxAnswer(forms[0] if forms else None, tuple(problems))
