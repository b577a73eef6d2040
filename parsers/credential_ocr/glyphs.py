"""The temporary ID's line and its characters, cut out of the band as images Tesseract reads well.

The box where the ID is printed (with a margin) is cut down to its glyphs (the blobs
about as tall as a capital, on one line), scaled to ``CROP_SCALE``, and cut again
into its 8 cells along the monospaced grid that crosses the least ink.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from parsers.credential_ocr.band import Gray, Mask, ink
from parsers.credential_text import LENGTH

MM_PER_INCH = 25.4
CROP_SCALE = 6.0  # px per mm of what Tesseract reads (~150 dpi: capitals ~44 px tall)


def glyph_line(crop: Gray, scale: float, cap_mm: float) -> tuple[Gray, int] | None:
    """The crop cut down to the line of glyphs (blobs about as tall as a capital), and the cut's left edge."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink(crop).astype(np.uint8), connectivity=8)
    cap = cap_mm * scale
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        # Glyphs, or two or three run together by the fax; not a rule, not small print.
        if 0.55 * cap <= h <= 1.5 * cap and w <= 3.5 * cap and area >= 0.05 * cap * cap:
            boxes.append((x, y, x + w, y + h))
    if len(boxes) < LENGTH // 2:
        return None
    middles = np.array([(b[1] + b[3]) / 2 for b in boxes])
    centre = float(np.median(middles))
    boxes = [b for b, middle in zip(boxes, middles, strict=True) if abs(middle - centre) < 0.5 * cap]
    x0 = max(0, min(b[0] for b in boxes) - int(0.5 * cap))
    x1 = min(crop.shape[1], max(b[2] for b in boxes) + int(0.5 * cap))
    y0 = max(0, min(b[1] for b in boxes) - int(0.3 * cap))
    y1 = min(crop.shape[0], max(b[3] for b in boxes) + int(0.3 * cap))
    return crop[y0:y1, x0:x1], x0


def resized(gray: Gray, k: float) -> Gray:
    size = (max(1, round(gray.shape[1] * k)), max(1, round(gray.shape[0] * k)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA),
                      dtype=np.uint8)


def ink_of(gray: Gray, threshold: int) -> Mask:
    """Ink darker than ``threshold``, specks (smaller than a fifth of a square millimetre) dropped."""
    dark = (gray < threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= max(4, int(0.2 * CROP_SCALE * CROP_SCALE))
    keep[0] = False
    return np.asarray(keep[labels])


def page(ink: Mask, *, pad: float) -> Image.Image:
    """Black ink on white with a white border, at CROP_SCALE, as Tesseract likes it."""
    p = round(pad)
    image = Image.fromarray(np.pad(np.where(ink, 0, 255).astype(np.uint8), p, constant_values=255))
    dpi = round(CROP_SCALE * MM_PER_INCH)
    image.info["dpi"] = (dpi, dpi)
    return image


def cells(ink: Mask, pitch: float, group: int, first: float | None) -> list[Image.Image]:
    """The 8 characters of a monospaced line, each alone: the grid of cells whose edges cross the least ink.

    ``pitch`` is a cell's width in px; the grid is two groups of ``group`` cells with one
    blank cell between. ``first`` is where the layout puts the first cell's left edge
    (searched ±half a pitch, pitch ±4 %); None: from the first glyph.
    """
    columns = ink.sum(axis=0).astype(np.float64)
    width = len(columns)
    if not columns.any():
        return []
    ink_left = int(np.argmax(columns > 0))
    start = first if first is not None else ink_left - 0.1 * pitch
    slots = [*range(group), *range(group + 1, 2 * group + 1)]
    best: tuple[float, float, float] | None = None
    for factor in np.linspace(0.96, 1.04, 9):
        p = pitch * factor
        for origin in np.arange(start - p / 2, start + p / 2 + 0.1, 1.0):
            edges = [origin + i * p for i in range(2 * group + 2)]
            if edges[0] < -p / 2 or edges[-1] > width + p / 2:
                continue
            cost = sum(columns[int(e)] for e in edges if 0 <= int(e) < width)
            gap = columns[max(0, int(edges[group])):max(0, int(edges[group + 1]))].sum()  # the blank cell
            outside = columns[:max(0, int(edges[0]))].sum() + columns[max(0, int(edges[-1])):].sum()
            total = cost + gap + 3 * outside
            if best is None or total < best[0]:
                best = (total, origin, p)
    if best is None:
        return []
    _, origin, p = best
    out = []
    for i in slots:
        a, b = max(0, round(origin + i * p)), min(width, round(origin + (i + 1) * p))
        cell = ink[:, a:b] if b > a else np.zeros((ink.shape[0], 1), bool)
        out.append(page(cell, pad=1.5 * CROP_SCALE))
    return out
