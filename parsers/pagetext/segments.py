"""The words of a scan before they are read: runs of its ink, and each run's own ink cut out.

The layout is ours, not Tesseract's: connected components grouped into words as a text layer's
characters are (``words``), strokes stacked in one glyph (ﾐ or 二) and the top and bottom of a
character alone (⺮ over 相 in 箱) going with it. Each word's own ink, none of its neighbours', is cut
out with a margin for Tesseract to read as one line, in black and white (``ink_crop``) and in gray for
the re-readings (``gray_crop``, ``drawn``).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from parsers.pagetext.page import MM_PER_INCH, Rule
from parsers.pagetext.picture import Gray, Labels, Mask, components
from parsers.pagetext.words import Piece, Run, join_runs, vertical_lines

OCR_SPLIT_EM = 0.95  # words.SPLIT_EM's like between ink boxes: characters' side bearings widen the gap
MAX_GLYPH_MM = 25.0  # a bigger blob is no character (a logo, a frame)
MIN_WORD_MM = 0.8  # a smaller run is a speck the despeckler left


def segments(ink: Mask, dpi: float, rules: Sequence[Rule]) -> tuple[Labels, list[Run]]:
    """The words of a scan before they are read: runs of connected components, as of a text layer's characters.

    A component's character height is its larger side / 0.9 (kana and kanji fill about 0.9 of their
    square). A run inside another's box (the lower stroke of 二 before 本), a short one beside a run
    and within its height (the strokes of ﾐ, stacked, each a run until ﾄ comes, too tall to join them), or
    the other half of a character alone (``_stacked``) goes with it; what is left smaller than
    ``MIN_WORD_MM`` is dust.
    """
    px_per_mm = dpi / MM_PER_INCH
    count, labels, stats = components(ink)
    largest = MAX_GLYPH_MM * px_per_mm
    pieces = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        if max(w, h) <= largest:
            pieces.append(Piece("", x, y, x + w, y + h, max(w, h) / 0.9, label))
    runs = sorted(join_runs(pieces, vertical_lines(rules, px_per_mm), OCR_SPLIT_EM),
                  key=lambda r: (r.x1 - r.x0) * (r.bottom - r.top), reverse=True)
    kept: list[Run] = []
    for run in runs:
        width, height = run.x1 - run.x0, run.bottom - run.top
        for other in kept:
            across = min(other.x1, run.x1) - max(other.x0, run.x0)
            down = min(other.bottom, run.bottom) - max(other.top, run.top)
            inside = across >= 0.7 * width and other.bottom - other.top >= height
            beside = (-across <= OCR_SPLIT_EM * other.em and height <= 0.6 * (other.bottom - other.top)
                      and width >= 0.3 * other.em)  # not a speck, nor what is left of a rule
            if down >= 0.7 * height and (inside or beside) or _stacked(run, other):
                other.take(run.pieces)
                break
        else:
            if max(width, height) >= MIN_WORD_MM * px_per_mm:
                kept.append(run)
    for run in kept:
        run.pieces.sort(key=lambda p: p.x0)
    return labels, kept


def _stacked(run: Run, other: Run) -> bool:
    """Whether two runs are the top and the bottom of one character standing alone (⺮ over 相 in 箱, 代 over
    衣 in 袋): one just above the other, about as wide, neither a sliver, and together about square and no
    taller than a character (10kg over 16kg in a column written large and tight is as wide as it is tall)."""
    width, other_width = run.x1 - run.x0, other.x1 - other.x0
    across = min(other.x1, run.x1) - max(other.x0, run.x0)
    height = max(run.bottom, other.bottom) - min(run.top, other.top)
    gap = max(run.top, other.top) - min(run.bottom, other.bottom)
    return (across >= 0.7 * max(width, other_width) and abs(gap) <= 0.15 * height
            and min(run.bottom - run.top, other.bottom - other.top) >= 0.2 * height
            and 0.8 <= height / (max(run.x1, other.x1) - min(run.x0, other.x0)) <= 1.25
            and height <= 1.5 * max(run.em, other.em))


def ink_crop(labels: Labels, run: Run) -> Mask:
    """The run's own ink (none of its neighbours'), with a margin, as Tesseract likes a line."""
    own, pad = _own_ink(labels, run)
    return np.pad(own, pad, constant_values=False)


def gray_crop(gray: Gray, labels: Labels, run: Run) -> Gray:
    """``ink_crop`` in gray: the run's own ink with its soft edges as the deskewed picture has them, the rest white."""
    own, pad = _own_ink(labels, run)
    soft = cv2.dilate(own.view(np.uint8), np.ones((3, 3), np.uint8)).view(np.bool_)
    x0, top, x1, bottom = int(run.x0), int(run.top), int(run.x1), int(run.bottom)
    return np.pad(np.where(soft, gray[top:bottom, x0:x1], 255).astype(np.uint8), pad, constant_values=255)


def _own_ink(labels: Labels, run: Run) -> tuple[Mask, int]:
    """The run's box, True where its own components are; and the margin its crops get."""
    x0, top, x1, bottom = int(run.x0), int(run.top), int(run.x1), int(run.bottom)
    return np.isin(labels[top:bottom, x0:x1], [p.label for p in run.pieces]), max(4, round(0.3 * (bottom - top)))


def drawn(crop: Gray, wide: float, high: int = 1, margin: int = 0) -> Gray:
    """A gray crop with ``margin`` more white around it, drawn ``wide`` times as wide and ``high`` times as high."""
    if margin:
        crop = np.pad(crop, margin, constant_values=255)
    size = (round(crop.shape[1] * wide), crop.shape[0] * high)
    return cv2.resize(crop, size, interpolation=cv2.INTER_LANCZOS4).astype(np.uint8)
