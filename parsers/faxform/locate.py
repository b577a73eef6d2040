"""Locating the form on a page: from its QR code and registration marks, or from the marks alone.

The QR code gives where the form is whichever way up; the four solid squares at
its corners then give a precise homography (skew, scale, even a different scale in
x and y). Without a readable QR code the marks alone locate it (three of them if
one is lost): their rectangle leaves two ways up, and the one where the printed
outlines are found wins, by a clear margin, or the page goes to review.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from parsers.faxform.frame import FormFrame
from parsers.faxform.geometry import FormGeometry
from parsers.faxform.pixels import Gray, Mask, Matrix
from parsers.faxform.reference import QrCode
from parsers.faxform.transform import affine, apply, homography, mm_px

OUTLINE_FOUND = 0.6  # share of the printed outlines found where the geometry puts them


@dataclass(frozen=True)
class Located:
    to_page: Matrix  # 3×3 homography: page millimetres → image pixels
    by: str  # "QR code and marks", "QR code and 3 marks", "QR code", "marks"
    outline: float  # share of printed outlines found


def locate(frame: FormFrame, gray: Gray, ink: Mask, qr: QrCode | None, reasons: list[str]) -> Located | None:
    """Where the form is (or None), by the QR code and marks, the QR code alone, or the marks; why in ``reasons``."""
    g = frame.geometry
    if qr is not None:
        q = g.qr
        from_qr = affine([(q.x, q.y), (q.right, q.y), (q.right, q.bottom), (q.x, q.bottom)], qr[1])
        found = _marks_near(ink, g, from_qr, 4.0)
        hits = [(m, f) for m, f in zip(g.marks, found, strict=True) if f is not None]
        candidates: list[tuple[Matrix, str]] = []
        if len(hits) == 4:
            candidates.append((homography([m for m, _ in hits], [f for _, f in hits]), "QR code and marks"))
        elif len(hits) == 3:
            candidates.append((affine([m for m, _ in hits], [f for _, f in hits]), "QR code and 3 marks"))
        candidates.append((from_qr, "QR code"))
        for to_page, by in candidates:
            outline = frame.outline_score(gray, to_page)
            if outline >= OUTLINE_FOUND:
                if by == "QR code":
                    reasons.append("registration marks not found; form located by its QR code")
                return Located(to_page, by, outline)
        reasons.append("QR code read, but the printed form is not where the QR code puts it")
        return None
    reasons.append("QR code unreadable")

    def ranked(hypotheses: Sequence[Matrix]) -> list[tuple[float, int]]:  # best outline score first
        return sorted(((frame.outline_score(gray, h), i) for i, h in enumerate(hypotheses)), reverse=True)

    marks = _mark_candidates(ink, g)
    hypotheses = _mark_hypotheses(marks, g)
    scored = ranked(hypotheses)
    if not scored or scored[0][0] < OUTLINE_FOUND:  # a mark lost (scribbled over, cut off): three will do
        hypotheses = _three_mark_hypotheses(marks, g)
        scored = ranked(hypotheses)
    if not hypotheses:
        reasons.append("form not found: no QR code and no registration marks")
        return None
    best, index = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best < OUTLINE_FOUND:
        reasons.append(f"form not found: registration marks found, but not the printed boxes ({best:.2f})")
        return None
    if best - runner_up < 0.15:
        reasons.append(f"form orientation unclear ({best:.2f} against {runner_up:.2f})")
        return None
    return Located(hypotheses[index], "marks", best)


def _mark_candidates(ink: Mask, geometry: FormGeometry) -> list[tuple[float, float]]:
    """Centres of solid squares that could be registration marks, the squarest and fullest first.

    Their size is not known before the form is found: anything between 0.6 and 1.6
    times the mark size, at any scale from the page filling the image's width or height.
    """
    h, w = ink.shape
    pw, ph = geometry.page_size
    scales = (w / pw, h / ph, w / ph, h / pw)
    return _squares(ink, geometry.mark_size * min(scales) * 0.6, geometry.mark_size * max(scales) * 1.6)


def _marks_near(ink: Mask, geometry: FormGeometry, to_page: Matrix,
                tolerance_mm: float) -> list[tuple[float, float] | None]:
    """For each registration mark, the solid square within ``tolerance_mm`` of where ``to_page`` puts it."""
    ppm = mm_px(to_page, geometry.form_rect.center)
    lo, hi = geometry.mark_size * ppm * 0.6, geometry.mark_size * ppm * 1.6
    reach = round((tolerance_mm + geometry.mark_size) * ppm)
    h, w = ink.shape
    found: list[tuple[float, float] | None] = []
    for mark in geometry.marks:
        px, py = apply(to_page, mark)
        x0, y0 = max(0, round(px) - reach), max(0, round(py) - reach)
        x1, y1 = min(w, round(px) + reach), min(h, round(py) + reach)
        near = [(cx + x0, cy + y0) for cx, cy in _squares(ink[y0:y1, x0:x1], lo, hi)] if x1 > x0 and y1 > y0 else []
        near = [c for c in near if math.dist(c, (px, py)) < tolerance_mm * ppm]
        found.append(min(near, key=lambda c: math.dist(c, (px, py))) if near else None)
    return found


def _squares(ink: Mask, lo: float, hi: float) -> list[tuple[float, float]]:
    """Centres of solid squares with sides between ``lo`` and ``hi`` px, the squarest and fullest first.

    Specks stuck to a square are opened away first; squareness and fullness are
    measured on the smallest rotated rectangle around each blob (skew does not matter).
    """
    k = max(3, min(9, round(lo / 5)))
    opened = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    bw, bh, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    sized = (bw >= lo) & (bw <= hi * 1.45) & (bh >= lo) & (bh <= hi * 1.45) & (area >= lo * lo * 0.8)
    sized[0] = False
    found: list[tuple[float, tuple[float, float]]] = []
    for i in np.nonzero(sized)[0]:
        x, y, w, h = (int(v) for v in stats[i, :4])
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == i)
        points = np.column_stack([xs + x, ys + y]).astype(np.float32)
        (cx, cy), (rw, rh), _ = cv2.minAreaRect(points)
        if not (lo <= rw <= hi and lo <= rh <= hi):
            continue
        aspect = rw / rh
        fill = int(area[i]) / (rw * rh)
        if 0.8 <= aspect <= 1.25 and fill >= 0.85:
            found.append((fill - abs(math.log(aspect)), (float(cx), float(cy))))
    found.sort(key=lambda f: -f[0])
    return [c for _, c in found[:24]]


def _mark_hypotheses(marks: Sequence[tuple[float, float]], geometry: FormGeometry) -> list[Matrix]:
    """Homographies mm → px for the sets of four candidates forming the marks' rectangle.

    For the best few rectangles, each way the rectangle can be the form's: two (turned
    by 0° or 180°, or by 90° or 270°) since the marks' rectangle is not a square.
    """
    target = geometry.marks_rect.w / geometry.marks_rect.h
    rectangles: list[tuple[float, list[tuple[float, float]]]] = []
    for quad in itertools.combinations(marks, 4):
        cx = sum(p[0] for p in quad) / 4
        cy = sum(p[1] for p in quad) / 4
        ordered = sorted(quad, key=lambda p: math.atan2(p[1] - cy, p[0] - cx))  # clockwise on screen
        sides = [math.dist(ordered[i], ordered[(i + 1) % 4]) for i in range(4)]
        if min(sides) < 20:
            continue
        diagonals = (math.dist(ordered[0], ordered[2]), math.dist(ordered[1], ordered[3]))
        err = (abs(sides[0] - sides[2]) / max(sides[0], sides[2]) + abs(sides[1] - sides[3]) / max(sides[1], sides[3])
               + abs(diagonals[0] - diagonals[1]) / max(diagonals))
        aspect = (sides[0] + sides[2]) / (sides[1] + sides[3])
        aspect_err = min(abs(math.log(aspect / target)), abs(math.log(aspect * target)))
        if err < 0.08 and aspect_err < 0.08:
            rectangles.append((err + aspect_err, ordered))
    rectangles.sort(key=lambda r: r[0])
    out: list[Matrix] = []
    mm = list(geometry.marks)
    for _, ordered in rectangles[:3]:
        for shift in range(4):
            px = [ordered[(i + shift) % 4] for i in range(4)]
            width_px = math.dist(px[0], px[1])
            height_px = math.dist(px[1], px[2])
            if abs(math.log((width_px / height_px) / target)) < 0.1:
                out.append(homography(mm, px))
    return out


def _three_mark_hypotheses(marks: Sequence[tuple[float, float]], geometry: FormGeometry) -> list[Matrix]:
    """Affine maps mm → px for three candidates forming a corner of the marks' rectangle (one mark lost).

    Three marks make a right triangle whose legs are the rectangle's width and height;
    the right angle may be any corner whose neighbours fit, so each fitting corner is
    one hypothesis.
    """
    rect = geometry.marks_rect
    target = rect.w / rect.h
    mm = list(geometry.marks)
    triangles: list[tuple[float, tuple[float, float], tuple[float, float], tuple[float, float]]] = []
    for trio in itertools.combinations(marks, 3):
        for v in trio:
            p, q = (t for t in trio if t is not v)
            a, b, c = math.dist(v, p), math.dist(v, q), math.dist(p, q)
            if min(a, b) < 20:
                continue
            hyp_err = abs(c * c - a * a - b * b) / (c * c)
            aspect_err = min(abs(math.log(a / b / target)), abs(math.log(a / b * target)))
            if hyp_err < 0.06 and aspect_err < 0.08:
                triangles.append((hyp_err + aspect_err, v, p, q))
    triangles.sort(key=lambda t: t[0])
    out: list[Matrix] = []
    for _, v, p, q in triangles[:3]:
        # order the legs so that v → nxt → prv turns as the page's TL → TR → BR (y down)
        cross = (p[0] - v[0]) * (q[1] - v[1]) - (p[1] - v[1]) * (q[0] - v[0])
        nxt, prv = (p, q) if cross > 0 else (q, p)
        for k in range(4):
            along_next = math.dist(mm[k], mm[(k + 1) % 4])
            along_prev = math.dist(mm[k], mm[(k - 1) % 4])
            if abs(math.log((math.dist(v, nxt) / math.dist(v, prv)) / (along_next / along_prev))) < 0.1:
                out.append(affine([mm[k], mm[(k + 1) % 4], mm[(k - 1) % 4]], [v, nxt, prv]))
    return out
