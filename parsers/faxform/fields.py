"""The fields the partner writes in: each one's crop, whether it is written, and what it says.

Each field is cropped (``FieldReading.image``, PNG) inside its outline; the ink left
once the outline, stray lines and specks are gone is the writing (``glyphs``).
Text (and the contact field, a handwritten name) is read by Tesseract, Japanese
then English (latin fields: English only); digits and dates only as ``digits``
bears them out; a tick box is ticked when a pen stroke is in it.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from PIL import Image

from parsers.faxform.digits import read_characters
from parsers.faxform.frame import FormFrame
from parsers.faxform.geometry import FormField, FormGeometry, Rect
from parsers.faxform.glyphs import LOOSE_INK_MM2, Writing, find_writing, has_stroke, touches_edge, without_edge_lines
from parsers.faxform.ocr import Ocr, OcrError
from parsers.faxform.pixels import CROP_SCALE, SCALE, Gray, Mask, Matrix, clean, png_bits
from parsers.faxform.readings import FieldReading
from parsers.faxform.transform import warp

# The crop starts FIELD_INSET mm inside the outline's inner edge; blobs smaller than FIELD_SPECK_PX
# (at CROP_SCALE) are fax speckle.
FIELD_INSET = 0.25
FIELD_SPECK_PX = 10
OUTSIDE_MM = 6.0  # how far beside a field writing is looked for (above and below: half that)
TEXT_CONFIDENCE = 0.6  # handwritten text: what OCR read, unchecked
TICK_CONFIDENCE = 0.95  # a stroke in a tick box: ticked (specks and toner spots are not strokes)

_CJK = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f"


def read_contact(gray: Gray, to_page: Matrix, geometry: FormGeometry, ocr: Ocr, read: bool,
                 reasons: list[str]) -> tuple[bytes | None, str | None]:
    """The contact field inside its outline, as PNG, and what Tesseract reads there (see ``read_text``)."""
    if geometry.contact is None:
        return None, None
    field_rect = geometry.contact.expanded(-(geometry.box_line + 0.6))
    crop = warp(gray, to_page, field_rect, CROP_SCALE)
    bits = clean(crop < 128)
    png = png_bits(bits)
    if bits.mean() < 0.004:
        reasons.append("contact field is empty")
        return png, None
    if not read:
        return png, None
    try:
        text = read_text(ocr, bits)
    except OcrError as exc:
        reasons.append(f"contact field not read: {exc}")
        return png, None
    if not text:
        reasons.append("contact field written, but not readable by OCR")
    return png, text or None


def read_text(ocr: Ocr, bits: Mask, *, latin: bool = False) -> str:
    """Handwritten text, by Tesseract: raises OcrError.

    OCR runs on the writing only (cropped to its ink, scaled to ~64 px high):
    Japanese first; a reading without any Japanese character is read again as
    English (a Latin name). Tesseract's combined jpn+eng model reads the second
    word of a Japanese name as Latin letters too often ("山田 AR BB"). ``latin``: English
    only, spaces dropped (an email address or a phone number is one word).
    """
    dpi = round(CROP_SCALE * 25.4)
    ys, xs = np.nonzero(bits)
    margin = round(2 * CROP_SCALE)
    y0, y1 = max(0, ys.min() - margin), min(bits.shape[0], ys.max() + margin + 1)
    x0, x1 = max(0, xs.min() - margin), min(bits.shape[1], xs.max() + margin + 1)
    writing = Image.fromarray(np.where(bits[y0:y1, x0:x1], 0, 255).astype(np.uint8))
    factor = min(1.5, max(0.3, 64 / max(1, ys.max() - ys.min() + 1)))
    writing = writing.resize((max(1, round(writing.width * factor)), max(1, round(writing.height * factor))),
                             Image.Resampling.LANCZOS)
    writing.info["dpi"] = (round(dpi * factor), round(dpi * factor))
    if latin:
        return "".join(ocr(writing, languages="eng", psm=7).split()).strip(".,;:'\"`|!()[]{}")
    text = _tidy_japanese(ocr(writing, languages="jpn", psm=7))
    if text and not re.search(f"[{_CJK}]", text):
        text = _tidy_japanese(ocr(writing, languages="eng", psm=7))
    return text


def read_field(frame: FormFrame, gray: Gray, canvas: Mask, printed: Mask, to_page: Matrix, spec: FormField,
               ocr: Ocr, read: bool) -> FieldReading:
    """One field: its crop inside the outline (found within ±1.2 mm), whether it is written, what it says."""
    dx, dy, coverage = frame.find_outline(canvas, spec.rect)
    if coverage < 0.5:  # outline not found: trust the geometry
        dx = dy = 0
    inner = spec.rect.expanded(-(frame.geometry.box_line + FIELD_INSET))
    inner = Rect(inner.x + dx / SCALE, inner.y + dy / SCALE, inner.w, inner.h)
    bits = without_edge_lines(clean(warp(gray, to_page, inner, CROP_SCALE) < 128, FIELD_SPECK_PX))
    png = png_bits(bits)
    outside = _outside(frame, canvas, printed, spec.rect, dx, dy)
    if spec.kind == "tick":  # any pen stroke inside the square: a tick, a cross, a filled box
        ticked = has_stroke(bits, CROP_SCALE)
        return FieldReading(spec.name, spec.kind, png, ticked, "yes" if ticked else None,
                            TICK_CONFIDENCE if ticked else 0.0, None, outside)
    if spec.kind in ("text", "latin"):  # lines of words: glyphs as one line of digits has them would join specks
        if not has_stroke(bits, CROP_SCALE):
            return FieldReading(spec.name, spec.kind, png, False, None, 0.0, None, outside)
        return _read_field(bits, find_writing(bits, dots=False), png, spec, outside, ocr, read)
    writing = find_writing(bits, dots=spec.kind == "digits")
    if not writing.glyphs:
        if writing.loose_ink >= LOOSE_INK_MM2 * CROP_SCALE ** 2:  # broken strokes, not specks: a person looks
            return FieldReading(spec.name, spec.kind, png, True, None, 0.0,
                                f"{spec.name}: ink but no character made out", outside)
        reason = f"{spec.name}: specks ignored" if writing.specks else None
        return FieldReading(spec.name, spec.kind, png, False, None, 0.0, reason, outside)
    if touches_edge(writing):
        outside = "writing runs over the box's edge" + (f"; {outside}" if outside else "")
    return _read_field(bits, writing, png, spec, outside, ocr, read)


def _outside(frame: FormFrame, canvas: Mask, printed: Mask, rect: Rect, dx: int, dy: int) -> str | None:
    """Writing beside a field where nothing is printed: a stroke 2 mm long or more, not a toner spot."""
    y0, y1, x0, x1 = frame.slice(rect.expanded(OUTSIDE_MM, OUTSIDE_MM / 2), dx, dy)
    return "writing outside the box" if has_stroke(canvas[y0:y1, x0:x1] & ~printed[y0:y1, x0:x1], SCALE) \
        else None


def _read_field(bits: Mask, writing: Writing, png: bytes, spec: FormField, outside: str | None, ocr: Ocr,
                read: bool) -> FieldReading:
    """What the writing in a field says (``read_field``: there is some)."""
    reading = _read_writing(bits, writing, png, spec, ocr, read)
    return replace(reading, outside=outside) if outside else reading


def _read_writing(bits: Mask, writing: Writing, png: bytes, spec: FormField, ocr: Ocr, read: bool) -> FieldReading:
    if not read:
        return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: written, not read")
    try:
        if spec.kind in ("text", "latin"):
            words = read_text(ocr, bits, latin=spec.kind == "latin")
            if not words:
                return FieldReading(spec.name, spec.kind, png, True, None, 0.0,
                                    f"{spec.name}: written, but not readable by OCR")
            return FieldReading(spec.name, spec.kind, png, True, words, TEXT_CONFIDENCE)
        text, confidence, why = read_characters(ocr, writing, spec.kind)
    except OcrError as exc:
        return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: not read: {exc}")
    if text is None:
        return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: {why}")
    return FieldReading(spec.name, spec.kind, png, True, text, confidence)


def _tidy_japanese(raw: str) -> str:
    """OCR output on one line, without spaces between Japanese characters nor stray marks at the ends."""
    text = " ".join(raw.split())
    text = re.sub(rf"(?<=[{_CJK}]) (?=[{_CJK}])", "", text)
    return re.sub(r"^[\W_]+|[\W_]+$", "", text)
