"""The writing in a field's crop: the outline's remains taken off, the ink cut into glyphs, specks told apart.

A dot is a decimal point only on the baseline; a solid spot is toner; components
overlapping across are one character (a 4, a 5 in two strokes). What the glyphs
say is for ``digits`` and ``fields``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from parsers.faxform.pixels import CROP_SCALE, Mask

# A glyph smaller than SMALL_GLYPH of the tallest and than MIN_GLYPH_MM across is a dot (a decimal
# point) or a speck; a solid spot up to BLOB_MM is toner.
SMALL_GLYPH = 0.35
MIN_GLYPH_MM = 2.0
STROKE_MM = 1.0  # a piece of a character is this long at least (fax specks: 0.4 mm at most)
BLOB_MM = 2.0
BLOB_FILL = 0.62  # a spot fills its box like a disc (0.79); a digit 2 mm high and more is not a spot
LOOSE_INK_MM2 = 1.2  # that much ink in small pieces, not spots, is writing nobody can make out


@dataclass(frozen=True)
class Glyph:
    """One character written in a field: connected strokes overlapping across (a 4, a 5 in two strokes)."""

    x0: int
    y0: int
    x1: int  # exclusive
    y1: int
    members: tuple[int, ...]  # its connected components' labels
    dot: bool = False  # a decimal point: small, on the baseline

    def mask(self, labels: npt.NDArray[np.int32]) -> Mask:
        """Its own ink within its box (not a neighbour's stroke reaching in)."""
        return np.isin(labels[self.y0:self.y1, self.x0:self.x1], self.members)


@dataclass(frozen=True)
class Writing:
    """What ``find_writing`` made out in a crop: the glyphs, over the labelled ink they are cut from."""

    labels: npt.NDArray[np.int32]  # connected components of the crop's ink, strokes a pixel apart joined
    glyphs: tuple[Glyph, ...]  # left to right
    specks: int  # small things left out
    loose_ink: int = 0  # pixels of the small things that are not solid spots (a broken stroke's pieces)


def without_edge_lines(bits: Mask) -> Mask:
    """A field's crop without what is left of its outline: long straight runs within 1 mm of an edge."""
    h, w = bits.shape
    band = round(1.0 * CROP_SCALE)
    if h <= 2 * band or w <= 2 * band:
        return bits
    out = bits.copy()
    ink8 = bits.astype(np.uint8)
    across = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((1, max(3, round(w * 0.5))), np.uint8)),
                        dtype=bool)
    down = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((max(3, round(h * 0.8)), 1), np.uint8)),
                      dtype=bool)
    edge_rows = np.zeros_like(bits)
    edge_rows[:band, :] = edge_rows[-band:, :] = True
    edge_cols = np.zeros_like(bits)
    edge_cols[:, :band] = edge_cols[:, -band:] = True
    out[across & edge_rows] = False
    out[down & edge_cols] = False
    return out


def find_writing(bits: Mask, dots: bool = True) -> Writing:
    """The characters written in a field's crop, left to right, and how many specks were left out.

    Components overlapping across by half the narrower one are one glyph (specks alone
    are none, see ``STROKE_MM``). Small ones
    (under ``SMALL_GLYPH`` of the tallest glyph and under ``MIN_GLYPH_MM``... see
    ``_small``) are a decimal point when they sit low, between the first glyph and
    just after the last (with ``dots``: digits), else specks; a small solid blob (a toner spot) is never a
    character but a decimal point's place.
    """
    # a thin stroke the fax broke into pieces is one stroke again (the pieces are labelled together)
    joined = cv2.dilate(bits.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, found, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    labels: npt.NDArray[np.int32] = np.where(joined > 0, np.asarray(found, dtype=np.int32), 0).astype(np.int32)
    merged: list[Glyph] = []
    for i in sorted(range(1, n), key=lambda k: int(stats[k, 0])):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if merged:
            last = merged[-1]
            if min(last.x1, x + w) - max(last.x0, x) >= 0.5 * min(w, last.x1 - last.x0):
                merged[-1] = Glyph(min(last.x0, x), min(last.y0, y), max(last.x1, x + w), max(last.y1, y + h),
                                   (*last.members, i))
                continue
        merged.append(Glyph(x, y, x + w, y + h, (i,)))
    if not merged:
        return Writing(labels, (), 0)
    tallest = max(g.y1 - g.y0 for g in merged)

    def stroke(i: int) -> bool:  # drawn by a pen: neither a speck nor a toner spot
        x, y, w, h = (int(v) for v in stats[i, :4])
        return max(w, h) >= STROKE_MM * CROP_SCALE and not _blob(labels, Glyph(x, y, x + w, y + h, (i,)))

    big = [g for g in merged if not _small(g, tallest) and not _blob(labels, g)]
    # specks one above the other overlap across: alone in a field, without a stroke among them and with
    # little ink, they are no writing (beside writing they stay glyphs, and the reading goes to review)
    if big and not any(stroke(m) for g in big for m in g.members) \
            and sum(int(g.mask(labels).sum()) for g in big) < LOOSE_INK_MM2 * CROP_SCALE ** 2:
        big = []
    if not big:
        loose = sum(int(g.mask(labels).sum()) for g in merged if not _blob(labels, g))
        return Writing(labels, (), len(merged), loose)
    top, bottom = min(g.y0 for g in big), max(g.y1 for g in big)
    left, right = min(g.x0 for g in big), max(g.x1 for g in big)
    glyphs: list[Glyph] = []
    specks = 0
    for g in merged:
        if g in big:
            glyphs.append(g)
        elif dots and (g.y0 + g.y1) / 2 > top + 0.6 * (bottom - top) and left < g.x0 \
                and g.x1 <= right + (bottom - top):
            glyphs.append(Glyph(g.x0, g.y0, g.x1, g.y1, g.members, dot=True))
        else:
            specks += 1
    return Writing(labels, tuple(glyphs), specks)


def has_stroke(ink: Mask, scale: float) -> bool:
    """A pen stroke in ``ink`` (at ``scale`` px/mm): something MIN_GLYPH_MM long or more, not a solid toner spot."""
    if not ink.any():
        return False
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        w, h, area = (int(v) for v in stats[i, 2:5])
        if max(w, h) >= MIN_GLYPH_MM * scale and (max(w, h) > BLOB_MM * scale or area / (w * h) <= BLOB_FILL):
            return True
    return False


def touches_edge(writing: Writing) -> bool:
    """A character reaches the crop's edge: it runs into the field's outline, maybe beyond."""
    labels = writing.labels
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    members = [m for g in writing.glyphs if not g.dot for m in g.members]
    return bool(np.isin(border, members).any())


def _small(g: Glyph, tallest: int) -> bool:
    limit = max(MIN_GLYPH_MM * CROP_SCALE, SMALL_GLYPH * tallest)
    return g.y1 - g.y0 < limit and g.x1 - g.x0 < limit


def _blob(labels: npt.NDArray[np.int32], g: Glyph) -> bool:
    """A small solid roundish spot (toner, a dot of ink), not a stroke."""
    w, h = g.x1 - g.x0, g.y1 - g.y0
    if max(w, h) > BLOB_MM * CROP_SCALE or not 0.5 <= w / max(1, h) <= 2.0:
        return False
    area = int(g.mask(labels).sum())
    return area / max(1, w * h) > BLOB_FILL
