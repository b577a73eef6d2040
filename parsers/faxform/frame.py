"""The rectified form: the form's rectangle resampled at ``SCALE`` px/mm, and finding its print there.

``FormFrame`` turns the geometry's millimetres into the rectified canvas's pixels,
finds a printed outline near where the geometry puts it (the page is never placed
exactly) and says where the form has print of its own; locating the form, the
boxes and the fields all measure through it.
"""

from __future__ import annotations

import cv2
import numpy as np

from parsers.faxform.geometry import FormGeometry, Rect
from parsers.faxform.pixels import SCALE, Gray, Mask, Matrix
from parsers.faxform.transform import warp


class FormFrame:
    """One geometry's rectified canvas: its origin (mm) and size (px) at ``SCALE``."""

    def __init__(self, geometry: FormGeometry) -> None:
        self.geometry = geometry
        self.origin = (geometry.form_rect.x, geometry.form_rect.y)
        self.canvas_size = (round(geometry.form_rect.w * SCALE), round(geometry.form_rect.h * SCALE))

    def canvas(self, gray: Gray, to_page: Matrix) -> Mask:
        """The form's ink, rectified through ``to_page`` (specks and all)."""
        return warp(gray, to_page, self.geometry.form_rect, SCALE) < 128

    def outline_score(self, gray: Gray, to_page: Matrix) -> float:
        """The share of the printed outlines (boxes, contact field) found near where they should be."""
        canvas = self.canvas(gray, to_page)
        return float(np.mean([self.find_outline(canvas, r)[2] for r in self.geometry.outlined]))

    def printed(self, shape: tuple[int, ...]) -> Mask:
        """Where the rectified form has print of its own (0.6 mm around each printed rectangle)."""
        printed = np.zeros(shape, dtype=bool)
        for rect in self.geometry.printed_rects():
            y0, y1, x0, x1 = self.slice(rect.expanded(0.6))
            printed[y0:y1, x0:x1] = True
        return printed

    def slice(self, rect: Rect, dx: int = 0, dy: int = 0) -> tuple[int, int, int, int]:
        ox, oy = self.origin
        w, h = self.canvas_size
        x0 = min(w, max(0, round((rect.x - ox) * SCALE) + dx))
        x1 = min(w, max(0, round((rect.right - ox) * SCALE) + dx))
        y0 = min(h, max(0, round((rect.y - oy) * SCALE) + dy))
        y1 = min(h, max(0, round((rect.bottom - oy) * SCALE) + dy))
        return y0, y1, x0, x1

    def find_outline(self, canvas: Mask, rect: Rect, search_mm: float = 1.2) -> tuple[int, int, float]:
        """Where a printed rectangle outline is, within ``search_mm``: offset (px) and coverage 0..1.

        Coverage: the share of positions along the four sides with ink within ±0.3 mm
        of the line. Ties go to the smallest offset (a filled box has ink everywhere).
        """
        r = round(search_mm * SCALE)
        band = max(1, round(0.3 * SCALE))
        half = max(1, round(self.geometry.box_line * SCALE / 2))
        y0, y1, x0, x1 = self.slice(rect)
        y0, y1, x0, x1 = y0 + half, y1 - half, x0 + half, x1 - half  # the line's centre
        h, w = canvas.shape
        pad = r + band + 2
        padded = np.zeros((h + 2 * pad, w + 2 * pad), dtype=bool)
        padded[pad:pad + h, pad:pad + w] = canvas
        y0, y1, x0, x1 = y0 + pad, y1 + pad, x0 + pad, x1 + pad
        # around the rectangle only: ink within ±band of each row (for the top and bottom sides)
        # and of each column (left and right), summed along the sides by cumulative sums, for
        # every offset at once
        top_, left_ = y0 - r - band, x0 - r - band
        local = padded[top_:y1 + r + band + 1, left_:x1 + r + band + 1].astype(np.uint8)
        k = 2 * band + 1
        near_row = np.asarray(cv2.dilate(local, np.ones((k, 1), np.uint8)), dtype=np.int32)
        near_col = np.asarray(cv2.dilate(local, np.ones((1, k), np.uint8)), dtype=np.int32)
        along_x = np.pad(np.cumsum(near_row, axis=1), ((0, 0), (1, 0)))
        along_y = np.pad(np.cumsum(near_col, axis=0), ((1, 0), (0, 0)))
        ly0, ly1, lx0, lx1 = y0 - top_, y1 - top_, x0 - left_, x1 - left_
        offsets = np.arange(-r, r + 1, 2)
        dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
        sides = (along_x[ly0 + dy, lx1 + dx + 1] - along_x[ly0 + dy, lx0 + dx]
                 + along_x[ly1 + dy, lx1 + dx + 1] - along_x[ly1 + dy, lx0 + dx]
                 + along_y[ly1 + dy + 1, lx0 + dx] - along_y[ly0 + dy, lx0 + dx]
                 + along_y[ly1 + dy + 1, lx1 + dx] - along_y[ly0 + dy, lx1 + dx])
        coverage = sides / (2 * (lx1 - lx0 + 1) + 2 * (ly1 - ly0 + 1))
        best = int(np.argmax(coverage - 0.002 * np.hypot(dx, dy)))  # the first best: smallest dy, then dx
        return int(dx.flat[best]), int(dy.flat[best]), float(min(1.0, coverage.flat[best]))
