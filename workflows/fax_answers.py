"""Answers by fax: a returned order sheet, or a paper invitation's fax-back form, read from page images.

A fax whose pages carry an order sheet's code is read as that order's answer
(``parsers.orderform``). Otherwise each page is read as an invitation's form:

The form names its invitation by the QR code (or the printed reference, read by
OCR); when both are lost, the temporary ID printed at the bottom of the letter,
read by OCR, is the last resort: its candidates' lookup keys are carried on the
page, for the caller to find the one invitation they match. The ticked box is the
answer and the contact field the contact person. A wholesaler's approval sheet of a company ID
application has the same form; its code names the registration instead. A page with the code of
the blank company ID application form is read as that form (``workflows.registration.application_fax``).
Reading pages is slow (OCR), so it happens before the database transaction:
``read_pages`` is pure, and ``Step`` only applies what it found. An attachment over a reading
limit (``parsers.limits``) is not a problem among others: ``TooLarge`` goes up to the pipeline,
which sends the message to review with it; each page's OCR time is counted (``limits.page``).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parsers import limits
from parsers.errors import TooLarge
from parsers.mime.parsed_mail import Attachment, ParsedMail
from workflows import observe

if TYPE_CHECKING:
    from PIL import Image

    from parsers.orderform import OrderedSheet, OrderFaxReading
    from workflows.registration.application_fax import ApplicationReading

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
    # When no code or reference was read: lookup_key() of each temporary ID the OCR read, likeliest first.
    temp_id_lookups: tuple[str, ...] = ()
    # A wholesaler's approval sheet (manual 001) has the same form; its code names a registration.
    registration_id: int | None = None


@dataclass(frozen=True)
class FaxAnswer:
    """What the fax pages of one mail said: the order sheet or the invitation form found, or why none was."""

    form: PageReading | None
    problems: tuple[str, ...]
    order: OrderFaxReading | None = None
    # A company ID application on our blank form (manual 001), and its page.
    application: ApplicationReading | None = None
    application_png: bytes = b""


def fax_attachments(mail: ParsedMail) -> list[Attachment]:
    return [a for a in mail.attachments if a.content_type.lower() in FAX_TYPES
            or (a.filename or "").lower().endswith((".pdf", ".tif", ".tiff"))]


def _png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # type: ignore[attr-defined]
    return out.getvalue()


def read_pages(mail: ParsedMail, secret: bytes,
               order_for: Callable[[int], OrderedSheet | None] | None = None) -> FaxAnswer | None:
    """Read every fax page of the mail; None when it carries no fax pages at all.

    ``order_for`` gives the order a returned order sheet names (None: no such order);
    without it only invitation forms are looked for.
    """
    attachments = fax_attachments(mail)
    if not attachments:
        return None
    from parsers.imaging import UnreadablePage, pages_from_attachment

    problems: list[str] = []
    decoded: list[tuple[Attachment, list[Image.Image]]] = []
    for attachment in attachments:
        try:
            decoded.append((attachment, pages_from_attachment(attachment.data, attachment.content_type,
                                                              attachment.filename, refuse_encrypted=True)))
        except TooLarge as exc:
            raise TooLarge(f"{exc.reason} ({attachment.filename or attachment.content_type})") from exc
        except UnreadablePage as exc:
            problems.append(f"{attachment.filename or attachment.content_type}: unparseable: {exc.reason}")
    if order_for is not None and decoded:
        from parsers.orderform import read_order_fax
        from workflows.order_documents.fax_forms import order_fax_form

        every_page = [page for _, pages in decoded for page in pages][:MAX_PAGES]
        with limits.page(1, len(every_page)):  # the sheet's pages are read together
            order = read_order_fax(every_page, order_fax_form(secret), order_for)
            limits.check_time()
        if order.order_id is not None:
            return FaxAnswer(None, tuple(problems), order)
    application = _application_form(decoded, secret)
    if application is not None:
        return FaxAnswer(None, tuple(problems), application=application[0], application_png=application[1])
    return _invitation_forms(decoded, secret, problems)


def _application_form(decoded: list[tuple[Attachment, list[Image.Image]]], secret: bytes
                      ) -> tuple[ApplicationReading, bytes] | None:
    """The first page that is our company ID application form, read (a QR look per page first: ~30 ms)."""
    from workflows.registration.application_fax import read_application

    for _, pages in decoded:
        for number, page in enumerate(pages[:MAX_PAGES], start=1):
            started = time.perf_counter()
            with limits.page(number):
                reading = read_application(page, secret)
                limits.check_time()
            if reading is not None:
                observe.page_read("application", time.perf_counter() - started)
                return reading, _png(page)
    return None


def _invitation_forms(decoded: list[tuple[Attachment, list[Image.Image]]], secret: bytes,
                      problems: list[str]) -> FaxAnswer:
    # Imported here: OpenCV, pypdfium2 and zxing load only in processes that read faxes.
    from parsers.credential_ocr.reader import read_temp_id
    from parsers.faxform.reader import read_faxback
    from workflows.credentials import lookup_key
    from workflows.letters import credential_layout, faxback_geometry, parse_reference
    from workflows.registration.approval_sheet import registration_of_reference

    geometry = faxback_geometry()
    layout = credential_layout()
    readings: list[PageReading] = []
    for attachment, pages in decoded:
        for number, page in enumerate(pages[:MAX_PAGES], start=1):
            started = time.perf_counter()
            with limits.page(number):
                reading = read_faxback(page, geometry, reference_check=lambda t: parse_reference(t, secret) is not None
                                       or registration_of_reference(t, secret) is not None)
                invitation_id = parse_reference(reading.reference, secret) if reading.reference else None
                registration_id = (registration_of_reference(reading.reference, secret)
                                   if reading.reference and invitation_id is None else None)
                lookups: tuple[str, ...] = ()
                temp_id_problems = ""
                if invitation_id is None and registration_id is None:  # no code nor reference: the temporary ID
                    temp_ids = read_temp_id(page, layout)
                    lookups = tuple(lookup_key(value, secret) for value in temp_ids.candidates)
                    temp_id_problems = "; ".join(temp_ids.reasons)
                    log.info("fax page %d: no reference; %d temporary ID candidate(s) read in %.0f ms", number,
                             len(lookups), temp_ids.seconds * 1000)
                limits.check_time()  # the readers swallow their OCR's failures: a spent page is told here
            observe.page_read("faxback", time.perf_counter() - started)
            readings.append(PageReading(
                invitation_id=invitation_id,
                answer=reading.answer.value if reading.answer else None,
                confidence=reading.confidence,
                reasons=tuple(reading.reasons),
                contact_text=(reading.contact_text or "").strip() or None,
                contact_image=reading.contact_image,
                page_png=_png(page),
                temp_id_lookups=lookups,
                registration_id=registration_id,
            ))
            if invitation_id is None and registration_id is None and not lookups:
                why = "; ".join([*reading.reasons, temp_id_problems] if temp_id_problems else reading.reasons)
                problems.append(f"page {number}: no fax-back form found ({why or 'no code'})")
        if len(pages) > MAX_PAGES:
            problems.append(f"{attachment.filename}: only the first {MAX_PAGES} of {len(pages)} pages were read")
    # A page naming its invitation by code or reference first, then one known only by its temporary ID.
    forms = ([r for r in readings if r.invitation_id is not None or r.registration_id is not None]
             + [r for r in readings if r.temp_id_lookups])
    return FaxAnswer(forms[0] if forms else None, tuple(problems))
