"""An application faxed in on our form: read field by field, confirmed by an operator, then taken as by mail.

``read_application`` is pure (a page image in, proposals out) and slow (OCR), so it runs before
the writing transaction (``workflows.fax_answers``). A fax never starts a registration by itself:
an email address read by OCR may be a stranger's, and IDs go to it. The message goes to review
with each field's proposal and its crop (``take``); the operator corrects and confirms on the
console (``confirm``), which starts and applies the registration with channel "fax" exactly as a
mail would: the JAN maker code, free mail and an existing company give the same answers. An
application the checks refuse is shown to the operator with its reasons and nothing is kept,
unless the operator says the form does say that: then the applicant is told, as by mail.

The applicant's address is the ID administrator's (the form asks for no other): without one
nothing can be confirmed, since every answer of the registration goes by mail; the operator may
fax the applicant a letter asking for one instead (``fax_back_no_address``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.registration_form import FIELDS
from workflows.config import Settings
from workflows.errors import InvalidRequest, NotFound
from workflows.faxes import queue_fax
from workflows.letters import render_form_page
from workflows.models import Document, FaxJob, InboundMessage, InboundStatus
from workflows.registration.application_form import (
    CONSENT_FIELD,
    FAX_FIELD,
    FORM,
    JAN_BOXES,
    form_language,
    form_reference,
    is_form_reference,
    jan_field_name,
)
from workflows.registration.applying import ApplicationRefused, apply, start
from workflows.registration.models import Registration
from workflows.registration.workflow import OBJECT_TYPE
from workflows.timeline import record

if TYPE_CHECKING:
    from PIL import Image

    from parsers.faxform.readings import FieldReading

log = logging.getLogger(__name__)

KIND = "registration_application"
REASON = "registration application by fax: confirm the fields"
CROP_KIND = "application_field"
# What the operator confirms, in the form's order: the mail's fields, the fax number, the consent.
KEYS = (*(f.key for f in FIELDS), FAX_FIELD, CONSENT_FIELD)


@dataclass(frozen=True)
class Proposal:
    """What the reader proposes for one field: the value ("" if none), how sure, why not, the crop (PNG)."""

    value: str
    confidence: float
    reason: str | None
    crop: bytes | None


@dataclass(frozen=True)
class ApplicationReading:
    reference: str
    fields: Mapping[str, Proposal]
    reasons: tuple[str, ...]
    language: str = "ja"  # the form's edition's: the answers go in it


def read_application(page: Image.Image, secret: bytes) -> ApplicationReading | None:
    """The page read as our application form, if its QR code says it is one (this edition's, genuine)."""
    from parsers.faxform.reader import read_form
    from parsers.faxform.reference import find_reference

    def check(text: str) -> bool:
        return is_form_reference(text, secret)

    if find_reference(page, check) is None:
        return None
    reading = read_form(page, FORM, reference_check=check, read_contact=False)
    if not reading.located or reading.reference is None:
        return None
    fields: dict[str, Proposal] = {}
    for key in KEYS:
        if key == "jan_maker_code":
            fields[key] = _jan(reading.fields)
            continue
        found = reading.fields[key]
        fields[key] = Proposal(found.text or "", found.confidence, found.reason or found.outside, found.image)
    language = form_language(reading.reference, secret) or "ja"
    log.info("application form (%s) read: %d of %d fields proposed", language,
             sum(1 for p in fields.values() if p.value), len(fields))
    return ApplicationReading(reading.reference, fields, tuple(reading.reasons), language)


def _jan(readings: Mapping[str, FieldReading]) -> Proposal:
    """The JAN maker code from its boxes, left to right: every written box read, none skipped.

    The boxes are read together as one line (``parsers.faxform.comb``: Tesseract reads a lone
    handwritten digit badly); a box that was also read alone must agree.
    """
    import io

    import numpy as np
    from PIL import Image

    from parsers.faxform.comb import read_comb
    from parsers.faxform.ocr import TesseractOcr

    boxes = [readings[jan_field_name(i + 1)] for i in range(JAN_BOXES)]
    crop = _row_crop([b.image for b in boxes])
    if not any(b.written for b in boxes):
        return Proposal("", 0.0, None, crop)
    last = max(i for i, b in enumerate(boxes) if b.written)
    gaps = [i + 1 for i, b in enumerate(boxes[:last]) if not b.written]
    if gaps:
        return Proposal("", 0.0, "JAN maker code: " + "; ".join(f"box {n} empty" for n in gaps), crop)
    comb = read_comb(TesseractOcr(), [np.asarray(Image.open(io.BytesIO(b.image)).convert("L")) < 128
                                      for b in boxes])
    if comb.digits is None:
        return Proposal("", 0.0, f"JAN maker code: {comb.reason}", crop)
    differ = [i + 1 for i, (b, d) in enumerate(zip(boxes, comb.digits, strict=True)) if b.text and b.text != d]
    if differ or any(d is None for d in comb.digits[:last + 1]):
        why = ", ".join(f"box {n} read alone as {boxes[n - 1].text}" for n in differ) or "a written box not read"
        return Proposal("", 0.0, f"JAN maker code: {why}", crop)
    return Proposal("".join(d for d in comb.digits if d), comb.confidence, None, crop)


def _row_crop(pngs: list[bytes]) -> bytes:
    """The boxes' crops side by side, one image for the operator."""
    import io

    from PIL import Image

    images = [Image.open(io.BytesIO(png)).convert("L") for png in pngs]
    row = Image.new("L", (sum(i.width for i in images) + 6 * (len(images) - 1), max(i.height for i in images)), 160)
    x = 0
    for image in images:
        row.paste(image, (x, 0))
        x += image.width + 6
    out = io.BytesIO()
    row.save(out, format="PNG", optimize=True)
    return out.getvalue()


def take(session: Session, row: InboundMessage, reading: ApplicationReading, page_png: bytes,
         problems: tuple[str, ...]) -> dict[str, Any]:
    """Keep the crops with the message and say what was read: the message's ``parse`` (it goes to review)."""
    page = Document(object_type="inbound", object_id=row.id, kind="application_page",
                    filename=f"application-{row.id}.png", content_type="image/png", data=page_png)
    crops = {key: Document(object_type="inbound", object_id=row.id, kind=CROP_KIND,
                           filename=f"{key}-{row.id}.png", content_type="image/png", data=p.crop)
             for key, p in reading.fields.items() if p.crop}
    session.add_all([page, *crops.values()])
    session.flush()
    return {"application": {
        "reference": reading.reference, "language": reading.language, "page": page.id,
        "reasons": list(reading.reasons), "problems": list(problems),
        "fields": {key: {"value": p.value, "confidence": p.confidence, "reason": p.reason,
                         "crop": crops[key].id if key in crops else None} for key, p in reading.fields.items()}}}


def proposals_of(row: InboundMessage) -> dict[str, Any] | None:
    """What the fax reader proposed for an application in review, as ``take`` stored it; None if no application."""
    found = (row.parse or {}).get("application")
    return found if row.kind == KIND and isinstance(found, dict) else None


def crops_of(session: Session, row: InboundMessage) -> dict[int, bytes]:
    """The crops (and the page) kept with the message, by document ID."""
    documents = session.scalars(select(Document).where(Document.object_type == "inbound",
                                                       Document.object_id == row.id))
    return {d.id: d.data for d in documents}


def fax_back_no_address(session: Session, settings: Settings, row: InboundMessage, fax_number: str, *,
                        company_name: str = "", language: str = "ja") -> FaxJob:
    """No address on the form: the applicant is told by fax, to ``fax_number``, and the message leaves review.

    Nothing else can be done with the form: every answer of a registration, the IDs included, goes by mail.
    InvalidRequest when the number cannot be dialled.
    """
    if proposals_of(row) is None:
        raise NotFound(f"message {row.id} is no application form")
    if row.status != InboundStatus.REVIEW:
        raise InvalidRequest(f"message {row.id} is {row.status}, not in review")
    language = language if language in ("ja", "en") else "ja"
    pdf = render_form_page(f"letters/registration_fax_reply.{language}.html",
                           {"company_name": " ".join(company_name.split()), "public_url": settings.public_url,
                            "fax_number": settings.fax_number},
                           reference=form_reference(settings.secret_key, language), language=language, qr=False)
    job = queue_fax(session, object_type="inbound", object_id=row.id, kind="registration_fax_reply",
                    number=fax_number, title="企業ID申請について / Your company ID application", pdf=pdf,
                    cause_inbound_id=row.id)
    row.status = InboundStatus.RESOLVED
    row.reason = f"{row.reason}; no email address: the applicant is told by fax to {job.number}"
    return job


def confirm(session: Session, settings: Settings, row: InboundMessage, fields: Mapping[str, str], *,
            tell_applicant: bool = False, language: str = "ja") -> Registration:
    """The operator's confirmed fields become a registration (channel "fax"), started and applied as by mail.

    Raises InvalidRequest (no application in review, no consent, no address), or ApplicationRefused
    with the checks' problems: the caller rolls back, nothing is kept. ``tell_applicant``: the form
    does say that; the registration stays requested and the applicant is mailed the problems.
    """
    if proposals_of(row) is None:
        raise NotFound(f"message {row.id} is no application form")
    if row.status != InboundStatus.REVIEW:
        raise InvalidRequest(f"message {row.id} is {row.status}, not in review")
    clean = {key: " ".join(str(fields.get(key, "")).split()) for key in KEYS}
    if clean[CONSENT_FIELD] != "yes":
        raise InvalidRequest("the applicant has not ticked the consent to the terms; no application without it")
    if not clean["admin_email"]:
        raise InvalidRequest("an ID administrator's email address is needed: the registration answers by mail")
    started = start(session, settings, applicant_email=clean["admin_email"], company_name=clean["company_name"],
                    channel="fax", language=language, inbound=row, send_link=False)
    registration = started.registration
    registration.details = {**registration.details, "fax_number": clean[FAX_FIELD], "application_fax": row.id}
    what = "answered: the company has an ID" if started.link is None else "applied"
    if started.link is not None:
        try:
            apply(session, settings, registration, clean, inbound=row)
        except ApplicationRefused:
            if not tell_applicant:
                raise
            what = "refused: the applicant is told the problems"
    record(session, OBJECT_TYPE, registration.id, "inbound", f"application by fax, confirmed by an operator: {what}",
           inbound_id=row.id, via="application form")
    row.status, row.object_type, row.object_id = InboundStatus.RESOLVED, OBJECT_TYPE, registration.id
    row.reason = f"{row.reason}; confirmed by an operator: {what}"
    return registration
