"""Digits and dates written by hand: read by OCR, and kept only if the glyphs bear the reading out.

The glyphs are laid out again evenly (Tesseract reads a lone or widely spaced
handwritten digit badly) and read with a whitelist, pass after pass, until a
reading fits: one character per glyph, the decimal point where the dot is, each
digit with its closed loops (a 3 has none, an 8 two) and the digit its glyph looks
most like among digits drawn in other fonts. Never a guess: a person reads what
the machine could not.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from parsers.faxform.geometry import FieldKind
from parsers.faxform.glyphs import Glyph, Writing
from parsers.faxform.ocr import Ocr
from parsers.faxform.pixels import Mask

GLYPH_PX = 36  # digits are laid out again this high for Tesseract
LOOP_MIN_PX = 12  # a closed loop smaller than this (or LOOP_MIN_SHARE of its glyph's box) is a speck of paper
LOOP_MIN_SHARE = 0.02
BIG_LOOP = 0.08  # the loop of a 0 or a 6 takes this share of its box at least (a closed-up 5's: 0.06)
ONE_WIDEST = 0.65  # a 1 is narrower than this share of its height (slanted as it may be) ...
DIGIT_NARROWEST = 0.3  # ... and the other digits are wider than this
ONE_NARROW = 0.5  # narrower than this, a glyph read as 1 needs no likeness: it is a stroke (a 7 is wider)
DIGITS = "0123456789."
DATE_CHARS = "0123456789/月日年"
# (languages, psm, whitelist), tried in turn until a reading is borne out by the glyphs.
DIGIT_PASSES = (("eng", 7, DIGITS), ("eng", 6, DIGITS), ("eng", 13, DIGITS))
DATE_PASSES = (("eng", 7, "0123456789/"), ("jpn", 7, DATE_CHARS), ("eng", 6, "0123456789/"), ("jpn", 6, DATE_CHARS))
AGREED_CONFIDENCE = 0.95  # digits or a date OCR read and the glyphs bear out (first pass; 0.9 a later one)
DATE_AGREED_CONFIDENCE = 0.85  # a date two passes read alike, the glyphs not matched one by one
LATER_PASS_CONFIDENCE = 0.9  # a reading borne out, from a later pass
UNSURE_SHAPE_CONFIDENCE = 0.85  # two passes alike, loops right, a glyph's likeness unclear (5 or 6?)
DATE_SHAPE = re.compile(r"(?:[0-9]{4}[/年])?([0-9]{1,2})[/月]([0-9]{1,2})日?")  # [year] month day


def read_characters(ocr: Ocr, writing: Writing, kind: FieldKind) -> tuple[str | None, float, str]:
    """Digits or a date: the first OCR pass whose reading the glyphs bear out, its confidence, or why none.

    The glyphs are laid out evenly and read by Tesseract with a whitelist, a pass at a
    time (``DIGIT_PASSES``, ``DATE_PASSES``). A reading counts only if all of these hold:

    - one character per glyph, a decimal point exactly where a dot glyph is (a digit
      lost, doubled or made of a speck shows);
    - every digit's glyph has the closed loops that digit has (``LOOPS``: 3/8, 5/6,
      0/9 are Tesseract's confusions) and a 1 is narrow, other digits are not;
    - every digit is the one its glyph looks most like, clearly, among digits drawn
      in other fonts (``_seen_digits``): a second opinion that fails otherwise.
    """
    image = _relaid(writing)
    passes = DIGIT_PASSES if kind == "digits" else DATE_PASSES
    seen = _seen_digits(writing)
    readings: list[str] = []
    unsure: list[str] = []  # readings the glyphs fit but whose likeness is not clear for a digit or two
    why = ""
    for number, (languages, psm, whitelist) in enumerate(passes):
        text = _characters(ocr(image, languages=languages, psm=psm, whitelist=whitelist), kind)
        readings.append(text)
        if not text:
            continue
        if not _fits_glyphs(text, writing.glyphs, kind):
            why = why or f"{text!r} does not match the {len(writing.glyphs)} characters written"
            continue
        misfit = _shape_misfit(text, writing)
        if misfit:
            why = why or f"{text!r} does not match the shapes written ({misfit})"
            continue
        differ = [s for ch, s, g in zip(text, seen, writing.glyphs, strict=True)
                  if ch.isdigit() and ch != s and not (ch == "1" and _narrow(g))]
        if differ and all(s == "?" for s in differ):
            unsure.append(text)
            if unsure.count(text) >= 2:  # two passes read it alike, and no glyph says otherwise
                return text, UNSURE_SHAPE_CONFIDENCE, ""
            continue
        if differ:
            why = why or f"read {text!r}, but the glyphs look like {seen!r}"
            continue
        return text, AGREED_CONFIDENCE if number == 0 else LATER_PASS_CONFIDENCE, ""
    if kind == "date":  # 月 and 日 may come apart in strokes: two passes that read them and the same day do,
        # if the month's digits are the first glyphs' and no more than 月 and 日 came apart
        days = [_month_day(r) for r in readings if "月" in r and len(r) < len(writing.glyphs) <= len(r) + 2
                and all(ch == s for ch, s in zip(r[:r.index("月")], seen, strict=False))]
        for day in days:
            if day is not None and days.count(day) >= 2:
                return f"{day[0]}/{day[1]}", DATE_AGREED_CONFIDENCE, ""
    shown = " / ".join(repr(r) for r in readings)
    return None, 0.0, f"written, but not read for sure (OCR {shown}{'; ' + why if why else ''})"


def _relaid(writing: Writing) -> Image.Image:
    """The glyphs again, scaled so that the tallest is ``GLYPH_PX`` high, evenly spaced, with a white margin.

    Tesseract reads handwritten digits spaced out unevenly (or a digit alone) badly;
    laid out like print, it reads them well. Each glyph keeps its height above the
    baseline (a decimal point stays down).
    """
    glyphs = writing.glyphs
    top = min(g.y0 for g in glyphs)
    bottom = max(g.y1 for g in glyphs)
    factor = GLYPH_PX / max(1, max(g.y1 - g.y0 for g in glyphs if not g.dot))
    gap = round(GLYPH_PX * 0.3)
    pad = round(GLYPH_PX * 0.5)
    parts: list[tuple[Image.Image, int]] = []
    for g in glyphs:
        piece = g.mask(writing.labels)
        image = Image.fromarray(np.where(piece, 0, 255).astype(np.uint8))
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        parts.append((image.resize(size, Image.Resampling.LANCZOS), round((g.y0 - top) * factor)))
    width = 2 * pad + sum(p.width for p, _ in parts) + gap * (len(parts) - 1)
    out = Image.new("L", (width, round((bottom - top) * factor) + 2 * pad), 255)
    x = pad
    for image, dy in parts:
        out.paste(image, (x, pad + dy))
        x += image.width + gap
    out.info["dpi"] = (300, 300)
    return out


# Closed loops of each digit, top to bottom ("u" upper, "m" middle, "l" lower), as a hand writes it:
# a reading is kept only if every digit's glyph has loops that fit it. Tesseract's confusions
# (3/8, 5/6, 0/9, 2/9, 1/4) change the loops; a loop the fax broke open sends the field to review.
LOOPS: dict[str, tuple[str, ...]] = {
    "0": ("m",), "1": ("",), "2": ("",), "3": ("",), "4": ("", "u", "m"), "5": ("",), "6": ("l",), "7": ("",),
    "8": ("ul", "l", "u"), "9": ("u",),  # an 8's small loop is often filled in
}


def _shape_misfit(text: str, writing: Writing) -> str | None:
    """Why the glyphs do not look like the digits read (closed loops, a 1's narrowness), or None if they may."""
    for ch, g in zip(text, writing.glyphs, strict=True):
        if ch not in LOOPS:
            continue
        glyph = g.mask(writing.labels)
        loops = _loops(glyph)
        if loops not in LOOPS[ch]:
            return f"{ch} with loops {loops or 'none'}"
        if ch in "06" and _loops(glyph, BIG_LOOP) != loops:  # a 5 or 8 closed up by a thick pen has a small one
            return f"{ch} with a small loop"
        aspect = glyph.shape[1] / max(1, glyph.shape[0])
        if (ch == "1" and aspect > ONE_WIDEST) or (ch != "1" and aspect < DIGIT_NARROWEST):
            return f"{ch} {aspect:.2f} times as wide as high"
    return None


# Digits drawn in fonts other than the simulator's (samples/faxsim.py writes in Klee One or IPAex
# Gothic): the second opinion on a handwritten digit is not trained on the hand it is tested with.
TEMPLATE_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                  "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
TEMPLATE_SIZE = (20, 28)  # width, height of a normalised glyph
SHAPE_MARGIN = 0.02  # the best digit's likeness must beat the next digit's by this much


def _seen_digits(writing: Writing) -> str:
    """The digits the glyphs look most like (and "." for a dot; "?" where no digit is clearly the likest)."""
    out = []
    for g in writing.glyphs:
        if g.dot:
            out.append(".")
            continue
        vector = _normalised(g.mask(writing.labels))
        templates, digits = _digit_templates()
        if not digits:
            return ""
        likeness = templates @ vector
        best = {d: float(likeness[[i for i, x in enumerate(digits) if x == d]].max()) for d in set(digits)}
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        out.append(ranked[0][0] if ranked[0][1] - ranked[1][1] >= SHAPE_MARGIN else "?")
    return "".join(out)


def _normalised(glyph: Mask) -> npt.NDArray[np.float64]:
    """A glyph scaled to ``TEMPLATE_SIZE``'s height (width in proportion, centred), blurred, zero mean, unit length."""
    ys, xs = np.nonzero(glyph)
    tw, th = TEMPLATE_SIZE
    canvas = np.zeros((th, tw), dtype=np.float32)
    if xs.size:
        glyph = glyph[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        h, w = glyph.shape
        scale = min(th / h, tw / w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(glyph.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        x0, y0 = (tw - size[0]) // 2, (th - size[1]) // 2
        canvas[y0:y0 + size[1], x0:x0 + size[0]] = small
    blurred = np.asarray(cv2.GaussianBlur(canvas, (5, 5), 1.2), dtype=np.float64).ravel()
    blurred -= blurred.mean()
    norm = float(np.linalg.norm(blurred))
    return blurred / norm if norm > 0 else blurred


@functools.lru_cache(maxsize=1)
def _digit_templates() -> tuple[npt.NDArray[np.float64], tuple[str, ...]]:
    """Each digit in each template font, plain and bolder, upright and slanted either way: normalised vectors."""
    from PIL import ImageDraw, ImageFont

    vectors: list[npt.NDArray[np.float64]] = []
    digits: list[str] = []
    for path in TEMPLATE_FONTS:
        if not os.path.exists(path):
            continue
        font = ImageFont.truetype(path, 48)
        for ch in "0123456789":
            for stroke in (0, 2):
                for shear in (-0.2, 0.0, 0.15):
                    image = Image.new("L", (96, 96), 0)
                    ImageDraw.Draw(image).text((24, 16), ch, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
                    image = image.transform(image.size, Image.Transform.AFFINE, (1, shear, -shear * 48, 0, 1, 0),
                                            resample=Image.Resampling.BILINEAR)
                    vectors.append(_normalised(np.asarray(image) > 127))
                    digits.append(ch)
    if not vectors:
        return np.zeros((0, TEMPLATE_SIZE[0] * TEMPLATE_SIZE[1])), ()
    return np.vstack(vectors), tuple(digits)


def _narrow(g: Glyph) -> bool:
    """A glyph no digit but a 1 can be: a stroke (the likeness of a 1 depends on its flag and foot)."""
    return (g.x1 - g.x0) < ONE_NARROW * (g.y1 - g.y0)


def _loops(glyph: Mask, share: float = 0.0) -> str:
    """The closed loops of a glyph (of at least ``share`` of its box), top to bottom: "u", "m" or "l" each."""
    h, w = glyph.shape
    background = np.pad(~glyph, 1, constant_values=True).astype(np.uint8)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(background, connectivity=4)
    border = labels[0, 0]
    minimum = max(LOOP_MIN_PX, LOOP_MIN_SHARE * h * w, share * h * w)
    out = []
    for i in sorted(range(1, n), key=lambda k: float(centroids[k][1])):
        if i == border or stats[i, cv2.CC_STAT_AREA] < minimum:
            continue
        y = (float(centroids[i][1]) - 1) / max(1, h)
        out.append("u" if y < 0.42 else "l" if y > 0.58 else "m")
    return "".join(out)


def _characters(raw: str, kind: FieldKind) -> str:
    """An OCR reading of digits or a date, folded to half-width and without spaces."""
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"\s+", "", text)
    if kind == "digits":  # as a person writes a quantity: no leading zero (a lost decimal point shows as one),
        # no trailing zero after the point (a speck taken for one shows as one)
        return text if re.fullmatch(r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?", text) else ""
    return text if DATE_SHAPE.fullmatch(text) else ""


def _month_day(text: str) -> tuple[int, int] | None:
    match = DATE_SHAPE.fullmatch(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _fits_glyphs(text: str, glyphs: Sequence[Glyph], kind: FieldKind) -> bool:
    """One character per glyph, and (digits) the decimal points exactly where the dot glyphs are."""
    if len(text) != len(glyphs):
        return False
    return kind != "digits" or all((ch == ".") == g.dot for ch, g in zip(text, glyphs, strict=True))
