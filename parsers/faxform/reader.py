"""read_form: the box ticked on a returned fax-back form, what is written in its fields, and its reference.

Every fax-back form of ours is a ``FormGeometry`` in millimetres from the top-left
corner of the page; the template that prints the page draws exactly that, and this
module reads it back. The invitation letter's form (``read_faxback``, answers as
``Intent``) and the order sheet's (``parsers.orderform``) are two such geometries:

    registration marks ■ at the form's four corners
    two or more boxes, each named by its answer  □ 済 承認   □ 非 非承認   □ 未 保留
    an optional contact field (自社の担当者) for a handwritten name
    named fields (``FormField``): handwritten text, digits (a quantity: 3, 2.5) or a
        date (11/25, 11月25日), each cropped and read by OCR with settings for its kind
    a QR code holding the reference (``TORII-INV-123-AB12``), printed below it in clear

Reading a page, in order (each step a module of this package):

1. QR code (``reference``): gives the reference and where the form is, whichever way up.
2. Registration marks (``locate``): four solid squares forming the expected
   rectangle give a precise homography; without a readable QR code the marks alone
   locate the form (three of them if one is lost), or the page goes to review.
3. Straight lines the fax adds are erased unless they lie on the form's own print (``streaks``).
4. The form is rectified to 8 px/mm (``frame``); the ink inside each box and in a
   ring around it is measured (``boxes``: ``box_scores``, ``ring_scores``).
5. Decision, never a guess (``boxes.decide``): exactly one box clearly marked and no
   other box with more than a trace of ink gives that answer; none, two or three,
   or one with a doubtful second, gives ``answer=None`` and the reason.
6. Without a QR code, the reference is read from its clear-text print by OCR and
   accepted only if ``reference_check`` accepts it (``reference``).
7. The contact field is cropped (``contact_image``, PNG) and read by Tesseract
   (``contact_text``): Japanese, then English if no Japanese came out (``fields``).
8. Each field is cropped (``FieldReading.image``, PNG) inside its outline and its
   writing cut into glyphs (``glyphs``); digits and dates are kept only when the
   glyphs bear the OCR reading out (``digits``), else ``None`` with the reason.

Tesseract runs as a subprocess with ``OMP_THREAD_LIMIT=1`` (``ocr.TesseractOcr``); any
``Ocr`` can be passed instead.

Conventions: ``rotation`` and ``skew_deg`` are counter-clockwise degrees, as in
``PIL.Image.rotate``: the page arrived turned by ``rotation + skew_deg`` and
``image.rotate(-(rotation + skew_deg))`` sets it upright. ``rotation`` is one of
0, 90, 180, 270; ``skew_deg`` is within ±45.

``read_form`` and ``read_faxback`` never raise on any image: what they cannot read is ``None`` with a reason.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

from PIL import Image

from parsers.faxform.boxes import decide, is_blank, measure
from parsers.faxform.fields import read_contact, read_field
from parsers.faxform.frame import FormFrame
from parsers.faxform.geometry import FormGeometry
from parsers.faxform.locate import locate
from parsers.faxform.ocr import Ocr, TesseractOcr
from parsers.faxform.pixels import clean, gray_square, ink_mask
from parsers.faxform.readings import FaxbackReading, FormReading, ReferenceCheck, ReferenceSource
from parsers.faxform.reference import find_qr, read_printed_reference
from parsers.faxform.streaks import erase_streaks
from parsers.faxform.transform import page_rotation
from parsers.intent import Intent

log = logging.getLogger(__name__)

MIN_PAGE_PX = 300


def read_form(image: Image.Image, geometry: FormGeometry, *,
              reference_check: ReferenceCheck | None = None,
              read_contact: bool = True, read_fields: bool = True, ocr: Ocr | None = None) -> FormReading:
    """Read a returned fax-back form from one page image (any mode; square pixels, or its ``info["dpi"]``).

    ``reference_check`` tells a real reference from an OCR misreading (and a foreign
    QR code). It must be strict: an issued reference, exactly (a lookup, or a check
    code of 4 characters or more), since an OCR misreading is corrected by trying up
    to a few thousand variants per reading and only one of them may pass.
    ``read_contact=False`` skips the contact field's OCR, ``read_fields=False`` the
    other fields' (the crops are kept, and whether something is written);
    ``ocr`` defaults to ``TesseractOcr()``. Never raises.
    """
    try:
        return _read(image, geometry, reference_check, read_contact, ocr or TesseractOcr(), read_fields)
    except Exception as exc:  # a worker must never crash on a page
        log.exception("fax-back form: unexpected failure")
        return FormReading(None, None, None, 0.0, (f"form could not be read: {type(exc).__name__}: {exc}",))


def read_faxback(image: Image.Image, geometry: FormGeometry, *,
                 reference_check: ReferenceCheck | None = None,
                 read_contact: bool = True, ocr: Ocr | None = None) -> FaxbackReading:
    """The invitation letter's form (``FAXBACK_FORM``, ``workflows.letters.faxback_geometry()``) read by ``read_form``.

    The same reading, with the answer as an ``Intent`` (approve, reject, hold); a
    box named otherwise gives no answer. Never raises.
    """
    reading = read_form(image, geometry, reference_check=reference_check, read_contact=read_contact,
                        read_fields=False, ocr=ocr)
    intents = {i.value: i for i in Intent}
    answer = intents.get(reading.answer) if reading.answer is not None else None
    reasons = reading.reasons
    if reading.answer is not None and answer is None:
        reasons += (f"box {reading.answer!r} is not an invitation answer",)
    return FaxbackReading(
        reference=reading.reference, reference_source=reading.reference_source, answer=answer,
        confidence=reading.confidence if answer is not None or reading.answer is None else 0.0, reasons=reasons,
        box_scores=reading.box_scores, ring_scores=reading.ring_scores, contact_image=reading.contact_image,
        contact_text=reading.contact_text, rotation=reading.rotation, skew_deg=reading.skew_deg)


def _read(image: Image.Image, geometry: FormGeometry, check: ReferenceCheck | None, read_contact_field: bool,
          ocr: Ocr, read_fields: bool) -> FormReading:
    reasons: list[str] = []
    gray = gray_square(image)
    if min(gray.shape) < MIN_PAGE_PX:
        return FormReading(None, None, None, 0.0, (f"page too small to read ({gray.shape[1]}×{gray.shape[0]})",))
    ink = ink_mask(gray)
    qr = find_qr(gray, check)
    frame = FormFrame(geometry)
    located = locate(frame, gray, ink, qr, reasons)
    if located is None:
        return FormReading(qr[0] if qr else None, ReferenceSource.QR if qr else None, None, 0.0, tuple(reasons))
    to_page = located.to_page
    rotation, skew = page_rotation(to_page, geometry)
    if rotation:
        reasons.append("page was upside down" if rotation == 180 else f"page was turned by {rotation}°")
    gray = erase_streaks(gray, ink, to_page, geometry, reasons)
    canvas = clean(frame.canvas(gray, to_page))
    printed = frame.printed(canvas.shape)
    scores, rings, spans = measure(frame, canvas, printed)
    # a form of fields only asks no question: "no box marked" would be noise
    answer, answer_confidence = decide(scores, rings, spans, reasons) if geometry.boxes else (None, 1.0)

    reference, source, reference_confidence = None, None, 1.0
    if qr is not None:
        reference, source, reference_confidence = qr[0], ReferenceSource.QR, 0.99
    else:
        reference, reference_confidence = read_printed_reference(gray, to_page, geometry, ocr, check, reasons)
        source = ReferenceSource.OCR if reference else None

    contact_image, contact_text = read_contact(gray, to_page, geometry, ocr, read_contact_field, reasons)
    fields = {f.name: read_field(frame, gray, canvas, printed, to_page, f, ocr, read_fields) for f in geometry.fields}
    confidence = min(answer_confidence, reference_confidence) if reference else answer_confidence
    log.debug("fax-back form %s located by %s (outlines %.2f): %s (%.2f), boxes %s, rings %s", reference,
              located.by, located.outline, answer, confidence, scores, rings)
    return FormReading(
        reference=reference, reference_source=source, answer=answer, confidence=round(confidence, 3),
        reasons=tuple(reasons), box_scores=MappingProxyType(scores), ring_scores=MappingProxyType(rings),
        contact_image=contact_image, contact_text=contact_text, rotation=rotation,
        skew_deg=round(skew, 2) + 0.0, fields=MappingProxyType(fields), blank=is_blank(scores, rings), located=True)
