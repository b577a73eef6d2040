"""The form's reference: from its QR code, or OCR of its clear-text print, and the check that accepts it.

The QR code is read first (zxing-cpp). Without one, the reference printed in clear
is read by OCR (Tesseract eng, a few passes) and accepted only if the caller's
``ReferenceCheck`` accepts it, as read or with one or two OCR confusions undone
(O/0, I/1/T, J/3, 8/B...), and only if all that pass spell one reference; without
a check, a reading shaped like a reference is kept, unchecked, with a confidence
below the review bar.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence

import cv2
import numpy as np
import zxingcpp
from PIL import Image

from parsers.faxform.geometry import FormGeometry
from parsers.faxform.ocr import Ocr, OcrError
from parsers.faxform.pixels import CROP_SCALE, Gray, Matrix, clean, gray_square
from parsers.faxform.readings import ReferenceCheck
from parsers.faxform.transform import warp

log = logging.getLogger(__name__)

# The reference read from a QR code, and the symbol's corners in the image (top-left, top-right,
# bottom-right, bottom-left as printed).
QrCode = tuple[str, list[tuple[float, float]]]

REFERENCE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
REFERENCE_SHAPE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")
# OCR confusions tried when the text read fails the check: what was read → what it may have been.
CONFUSABLE: dict[str, tuple[str, ...]] = {
    "0": ("O", "Q", "D", "9"), "O": ("0", "Q", "D", "9"), "Q": ("O", "0"), "D": ("0", "O"),
    "1": ("I", "L", "T", "7"), "I": ("1", "L", "J", "II", ""), "L": ("1", "I"), "T": ("I", "1", "J", "7"),
    "7": ("1", "T"), "J": ("I", "3"), "3": ("J", "8"),
    "H": ("II", "N"), "N": ("H",), "F": ("T", "I", "I-", "E", "P"), "E": ("F",), "P": ("F",),
    "U": ("V", "0"), "V": ("U", "Y"), "Y": ("V",),
    "5": ("S",), "S": ("5", "8"), "8": ("B", "S"), "B": ("8",), "2": ("Z", "-", ""), "Z": ("2",), "6": ("G",),
    "G": ("6",),
}
# OCR passes over the printed reference: scale (px/mm), page segmentation, whitelist or not. Without
# the whitelist a J read as "]" or ")" is not lost.
REFERENCE_PASSES = ((CROP_SCALE, 7, True), (CROP_SCALE, 7, False), (CROP_SCALE * 0.75, 7, True),
                    (CROP_SCALE * 1.25, 13, True))
_SYMBOLS = str.maketrans({"]": "J", ")": "J", "[": "I", "|": "I", "!": "I", "$": "S", "€": "E", "—": "-", "_": "-",
                          "–": "-", "ー": "-", "−": "-"})
# Readings equal up to these confusions are one reading (a lenient check accepts several spellings of one reference).
_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "T": "1", "7": "1", "J": "1", "S": "5",
                       "B": "8", "Z": "2", "G": "6", "-": None})
MAX_CANDIDATES = 3000  # corrections tried per OCR reading


def find_reference(image: Image.Image, reference_check: ReferenceCheck | None = None) -> str | None:
    """The reference in the page's QR code, if it has one (``reference_check`` as for ``read_form``), else None.

    No OCR and no form geometry: a few tens of milliseconds, to tell one of our forms
    from any other page before reading it. Without a check, any QR text shaped like a
    reference. Never raises.
    """
    try:
        found = find_qr(gray_square(image), reference_check)
    except Exception:  # a worker must never crash on a page
        log.exception("QR code: unexpected failure")
        return None
    return found[0] if found else None


_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def find_qr(gray: Gray, check: ReferenceCheck | None) -> QrCode | None:
    """The form's QR code: its text and its corners in the image (top-left, top-right, bottom-right, bottom-left).

    The corners are the symbol's own: its top-left is the corner of the finder
    pattern that is top-left on the printed page, whichever way the page arrived.
    A QR code that is not a reference (``check``, or the reference shape) is ignored;
    the text is the check's spelling of the reference when it gives one.
    """
    found: list[zxingcpp.Barcode] = []
    for attempt in range(2):
        img = gray if attempt == 0 else np.asarray(cv2.medianBlur(gray, 3), dtype=np.uint8)
        found = [b for b in zxingcpp.read_barcodes(img, formats=_QR_ONLY)
                 if b.valid and b.text.strip()]
        if found:
            break

    for barcode in found:
        text = barcode.text.strip()
        reference = _checked(check, text) if check is not None else (text if REFERENCE_SHAPE.fullmatch(text) else None)
        if reference:
            p = barcode.position
            corners = [(float(c.x), float(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
            return reference, corners
    if found:
        log.info("fax-back form: QR code %r is not a reference; ignored", found[0].text[:80])
    return None


def _checked(check: ReferenceCheck, text: str) -> str | None:
    """The reference ``text`` is (or holds) by ``check``: its own spelling if the check says so, else ``text``."""
    try:
        verdict = check(text)
    except Exception:  # a check that raises says no
        log.warning("reference check raised on %r", text, exc_info=True)
        return None
    if isinstance(verdict, str):
        return verdict.strip() or None
    return text if verdict else None


def _one_reference(candidates: Sequence[str]) -> str | None:
    """The reference all candidates spell, if they spell one: equal up to OCR confusions and stray characters."""
    if not candidates:
        return None
    folded = [c.translate(_FOLD) for c in candidates]
    core = min(folded, key=len)
    if all(core in f for f in folded):
        return candidates[folded.index(core)]
    return None


def read_printed_reference(gray: Gray, to_page: Matrix, geometry: FormGeometry, ocr: Ocr,
                           check: ReferenceCheck | None, reasons: list[str]) -> tuple[str | None, float]:
    """The reference printed in clear, by OCR: a few passes until one reading passes the check.

    Passes differ in scale, page segmentation and whitelist; every reading that passes the
    check (as read, or with a confusion undone) is a candidate, and only a single
    candidate is accepted. Without a check, the first reading shaped like a
    reference is taken, unchecked.
    """
    rect = geometry.reference_text.expanded(1.5, 1.0)
    readings: list[str] = []
    candidates: list[str] = []
    for scale, psm, whitelist in REFERENCE_PASSES:
        crop = warp(gray, to_page, rect, scale)
        image = Image.fromarray(np.where(clean(crop < 150, 8), 0, 255).astype(np.uint8))
        image.info["dpi"] = (round(scale * 25.4), round(scale * 25.4))
        try:
            raw = ocr(image, languages="eng", psm=psm, whitelist=REFERENCE_CHARS if whitelist else None)
        except OcrError as exc:
            reasons.append(f"QR code unreadable and OCR unavailable ({exc}): no reference")
            return None, 0.0
        text = re.sub(r"[^A-Z0-9-]", "", raw.upper().translate(_SYMBOLS)).strip("-")
        if not text or text in readings:
            continue
        readings.append(text)
        if check is None:
            if REFERENCE_SHAPE.fullmatch(text):
                reasons.append(f"QR code unreadable; reference read by OCR as {text}, not checked")
                return text, 0.6
            continue
        as_read = _checked(check, text)
        if as_read:  # no need for another pass
            candidates = [as_read]
            break
        candidates += [c for c in _corrections(text, check) if c not in candidates]
    if not readings:
        reasons.append("QR code unreadable; reference text not readable by OCR")
        return None, 0.0
    shown = " / ".join(readings)
    if check is None:
        reasons.append(f"QR code unreadable; OCR read {shown}, which does not look like a reference")
        return None, 0.0
    reference = _one_reference(candidates)
    if reference:
        corrected = not any(_checked(check, r) == reference for r in readings)
        reasons.append("QR code unreadable; reference read by OCR" +
                       (f" (read {shown}, corrected)" if corrected else ""))
        return reference, 0.9 if corrected else 0.95
    if candidates:
        reasons.append(f"QR code unreadable; OCR read {shown}, which fits several references: "
                       + ", ".join(candidates[:5]))
    else:
        reasons.append(f"QR code unreadable; OCR read {shown}, which is not a valid reference")
    return None, 0.0


def _corrections(text: str, check: ReferenceCheck) -> list[str]:
    """The references ``text`` (which fails ``check`` as read) may be, with one or two OCR confusions undone."""
    positions = [i for i, ch in enumerate(text) if ch in CONFUSABLE]
    passing: list[str] = []
    tried = 0
    for count in (1, 2):
        for chosen in itertools.combinations(positions, count):
            for replacement in itertools.product(*(CONFUSABLE[text[i]] for i in chosen)):
                tried += 1
                if tried > MAX_CANDIDATES:
                    return passing
                chars = list(text)
                for i, ch in zip(chosen, replacement, strict=True):
                    chars[i] = ch
                reference = _checked(check, "".join(chars))
                if reference and reference not in passing:
                    passing.append(reference)
        if passing:
            return passing
    return passing
