"""Digits written one a box (a comb field: a JAN maker code), read together as one line, kept by position.

Tesseract reads a lone handwritten digit badly (a 9 alone often comes back as nothing), and a
line of digits well. So the boxes' writing is laid side by side, in box order, and read as one
quantity would be (``digits.read_characters``: passes until a reading the glyphs bear out); the
reading counts only when every written box holds exactly one glyph, and each box gets the digit
in its position. Never a guess: a box with two glyphs, or a reading that does not fit, gives
None and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from parsers.faxform.digits import read_characters
from parsers.faxform.glyphs import find_writing
from parsers.faxform.ocr import Ocr, OcrError
from parsers.faxform.pixels import CROP_SCALE, Mask

GAP_MM = 3.0  # white between two boxes' writing, as between digits written on a line


@dataclass(frozen=True)
class CombReading:
    """The digit of each box (None: empty box), or ``digits=None`` with the reason; how sure."""

    digits: tuple[str | None, ...] | None
    confidence: float
    reason: str | None = None


def read_comb(ocr: Ocr, boxes: Sequence[Mask]) -> CombReading:
    """The digits of a comb field from its boxes' crops (1-bit, ink True), left to right."""
    inked: list[tuple[int, Mask]] = []
    for index, bits in enumerate(boxes):
        writing = find_writing(bits, dots=False)
        if len(writing.glyphs) > 1:
            return CombReading(None, 0.0, f"box {index + 1}: {len(writing.glyphs)} characters in one box")
        if writing.glyphs:
            members = writing.glyphs[0].members
            inked.append((index, np.isin(writing.labels, members)))
    if not inked:
        return CombReading(tuple(None for _ in boxes), 1.0)
    height = max(bits.shape[0] for _, bits in inked)
    gap = np.zeros((height, round(GAP_MM * CROP_SCALE)), dtype=bool)
    parts: list[Mask] = []
    for _, bits in inked:
        padded = np.zeros((height, bits.shape[1]), dtype=bool)
        padded[:bits.shape[0]] = bits
        parts += [padded, gap]
    line = find_writing(np.hstack(parts[:-1]), dots=False)
    if len(line.glyphs) != len(inked):
        return CombReading(None, 0.0, f"{len(line.glyphs)} characters made out in {len(inked)} written boxes")
    try:
        text, confidence, why = read_characters(ocr, line, "digits")
    except OcrError as exc:
        return CombReading(None, 0.0, f"not read: {exc}")
    if text is None or not text.isdigit() or len(text) != len(inked):
        return CombReading(None, 0.0, why or f"{text!r} is not one digit a box")
    digits: list[str | None] = [None] * len(boxes)
    for (index, _), digit in zip(inked, text, strict=True):
        digits[index] = digit
    return CombReading(tuple(digits), confidence)
