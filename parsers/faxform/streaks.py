"""Straight lines the fax adds across the form (a garbled scan line, dirt on the glass), erased.

They would read as ink in a box or a field; the form's own print is kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from parsers.faxform.geometry import FormGeometry, in_any, inside
from parsers.faxform.pixels import Gray, Mask, Matrix
from parsers.faxform.transform import apply, apply_all, mm_px

STREAK_MM = 20.0  # a straight ink run along the image's rows or columns longer than this is the fax's


def erase_streaks(gray: Gray, ink: Mask, to_page: Matrix, geometry: FormGeometry, reasons: list[str]) -> Gray:
    """The page without the straight lines a fax adds: a bad scan line across, dirt on the glass down.

    They are ink runs at least ``STREAK_MM`` long, exactly along the image's rows or
    columns, and not lying on the form's own print (the contact field's outline is
    such a run when the page is not skewed). A run that mostly does lie on print (a
    streak along a table's row) loses what of it does not: the part inside a field or
    in the margin is the fax's.
    """
    form = geometry.form_rect
    ppm = mm_px(to_page, form.center)
    length = max(20, round(STREAK_MM * ppm))
    # only around the form: what the fax did elsewhere on the page does not matter
    corners = [apply(to_page, c) for c in ((form.x, form.y), (form.right, form.y), (form.right, form.bottom),
                                           (form.x, form.bottom))]
    h, w = ink.shape
    x0 = max(0, int(min(c[0] for c in corners)) - length)
    x1 = min(w, int(max(c[0] for c in corners)) + length)
    y0 = max(0, int(min(c[1] for c in corners)) - length)
    y1 = min(h, int(max(c[1] for c in corners)) + length)
    if x1 <= x0 or y1 <= y0:
        return gray
    ink8 = ink[y0:y1, x0:x1].astype(np.uint8)
    to_mm = np.asarray(np.linalg.inv(to_page), dtype=np.float64)
    printed = [r.expanded(1.0) for r in geometry.printed_rects()]
    # inside a box or field nothing is printed: a line there is the fax's (or the partner's)
    outlined = [r for r in geometry.outlined if r.w > 2.5 and r.h > 2.5]
    blank = [r.expanded(-1.0) for r in outlined]
    inner = [r.expanded(-(geometry.box_line + 0.15)) for r in outlined]  # just inside the outline
    out = gray.copy()
    erased = 0
    for kernel in (np.ones((1, length), np.uint8), np.ones((length, 1), np.uint8)):
        runs = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
        if not runs.any():
            continue
        n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        for i in range(1, n):
            x, y, bw, bh = (int(v) for v in stats[i, :4])
            points = [apply(to_mm, (x0 + x + bw * t / 10, y0 + y + bh * t / 10)) for t in range(11)]
            if not any(inside(form, p) for p in points):
                continue  # outside the form: harmless
            streak = labels[y:y + bh, x:x + bw] == i
            if sum(any(inside(r, p) for r in printed) and not any(inside(r, p) for r in blank)
                   for p in points) >= 9:  # the form's own line, or a streak along it
                ys, xs = np.nonzero(streak)
                mx, my = apply_all(to_mm, (xs + (x0 + x)).astype(np.float64), (ys + (y0 + y)).astype(np.float64))
                off = ~(in_any(printed, mx, my) & ~in_any(inner, mx, my))
                if off.sum() < length / 4:
                    continue
                streak = np.zeros_like(streak)
                streak[ys[off], xs[off]] = True
            region = out[y0 + y:y0 + y + bh, x0 + x:x0 + x + bw]
            region[streak] = 255
            erased += 1
    if erased:
        reasons.append("a streak across the form was ignored" if erased == 1
                       else f"{erased} streaks across the form were ignored")
    return out
