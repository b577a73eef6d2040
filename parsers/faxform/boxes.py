"""Which answer box is marked: the ink inside each box and in a ring around it, and the decision.

On the rectified form each box's outline is found within ±1.2 mm of where it should
be and the ink *inside* it is measured (outline excluded, specks removed, the
page's background speckle subtracted): ``box_scores``. A circle drawn around a box
(or around box and label) leaves the box empty, so the ink in a ring around it is
measured too, as the share of directions around it that a line covers (what is
nearer to another box is that box's): ``ring_scores``. The decision is never a
guess (``decide``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from parsers.faxform.frame import FormFrame
from parsers.faxform.geometry import AnswerBox, Rect, rect_distance
from parsers.faxform.pixels import SCALE, Mask

# Decision thresholds, from bench/faxback_forms.py on the real letter (10 mm boxes), 400 forms, half of
# them worse than the brief (skew ±6°, twice the noise): ink inside a ticked box 0.049 or more (crossed
# 0.107, filled 0.96), inside an unmarked box 0.023 at most (a toner spot); a circle's ring 0.75 or more,
# an unmarked box's ring 0.12 at most.
INNER_MARKED = 0.035  # ink inside a box that marks it (if spread over it, see MARK_SPAN)
INNER_TRACE = 0.012  # more than this in a second box: a person looks
MARK_SPAN = 0.45  # ink inside a box must spread over this share of its width or height to mark it
SPECK_SPAN = 0.3  # ink spreading over less (a dot, a toner spot) ...
SPECK_INK = 0.08  # ... and less than this (a 2 mm blot in a 10 mm box) is ignored
RING_MARKED = 0.55  # a circle covers most directions around a box
RING_TRACE = 0.3


def measure(frame: FormFrame, canvas: Mask,
            printed: Mask) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per box: the ink inside it, the ring around it, and how far the ink inside spreads (0..1)."""
    g = frame.geometry
    background = _background(frame, canvas, printed)
    scores: dict[str, float] = {}
    rings: dict[str, float] = {}
    spans: dict[str, float] = {}
    for b in g.boxes:
        dx, dy, _ = frame.find_outline(canvas, b.box)
        inner = b.box.expanded(-(g.box_line + 0.9))
        y0, y1, x0, x1 = frame.slice(inner, dx, dy)
        inside = canvas[y0:y1, x0:x1]
        density = float(inside.mean()) if inside.size else 0.0
        scores[b.answer] = round(max(0.0, density - background), 4)
        ys, xs = np.nonzero(inside)
        spans[b.answer] = (max((xs.max() - xs.min() + 1) / inside.shape[1],
                               (ys.max() - ys.min() + 1) / inside.shape[0]) if xs.size else 0.0)
        others = [o for o in g.boxes if o is not b]
        rings[b.answer] = round(max(
            _ring(frame, canvas, printed, b.box.union(b.label), others, 12.0, 6.0),
            _ring(frame, canvas, printed, b.box, others, 8.0, 6.0)), 3)
    return scores, rings, spans


def is_blank(scores: Mapping[str, float], rings: Mapping[str, float]) -> bool:
    """No box shows any ink at all: no answer given, rather than an unclear one."""
    return all(scores[k] < INNER_TRACE and rings[k] < RING_TRACE for k in scores)


def decide(scores: Mapping[str, float], rings: Mapping[str, float], spans: Mapping[str, float],
           reasons: list[str]) -> tuple[str | None, float]:
    """One box clearly marked and no other with a trace of ink: that answer; else None and why.

    marked    ink inside ≥ INNER_MARKED spread over ≥ MARK_SPAN of the box (a tick, a
              cross, a fill), or a ring ≥ RING_MARKED (a circle)
    speck     INNER_TRACE ≤ ink inside < SPECK_INK within < SPECK_SPAN of the box, no
              ring: a dot, a toner spot or blot, ignored (and said so)
    doubtful  any other ink above INNER_TRACE or ring above RING_TRACE: a person looks
    """
    def describe(k: str) -> str:
        return f"{k} circle {rings[k]:.2f}" if rings[k] / RING_MARKED > scores[k] / INNER_MARKED \
            else f"{k} {scores[k]:.2f}"

    marked = [k for k in scores if (scores[k] >= INNER_MARKED and spans[k] >= MARK_SPAN)
              or rings[k] >= RING_MARKED]
    specks = [k for k in scores if k not in marked and INNER_TRACE <= scores[k] < SPECK_INK
              and spans[k] < SPECK_SPAN and rings[k] < RING_TRACE]
    doubtful = [k for k in scores if k not in marked and k not in specks
                and (scores[k] >= INNER_TRACE or rings[k] >= RING_TRACE)]
    if specks:
        reasons.append("specks ignored: " + ", ".join(f"{k} {scores[k]:.2f}" for k in specks))

    if len(marked) == 1 and not doubtful:
        answer = marked[0]
        quiet = all(scores[k] < INNER_TRACE / 2 and rings[k] < RING_TRACE / 2 for k in scores if k != answer)
        how = "circled" if scores[answer] < INNER_MARKED else "marked"
        reasons.append(f"{answer} {how}: {describe(answer)}")
        return answer, 0.97 if quiet else 0.92
    if len(marked) >= 2:
        words = {2: "two", 3: "three", 4: "four", 5: "five"}
        reasons.append(f"{words.get(len(marked), str(len(marked)))} boxes marked: "
                       + ", ".join(describe(k) for k in marked))
    elif marked:
        reasons.append(f"{describe(marked[0])} marked, but also ink at "
                       + ", ".join(describe(k) for k in doubtful))
    elif doubtful:
        reasons.append("no box clearly marked; some ink at " + ", ".join(describe(k) for k in doubtful))
    else:
        reasons.append("no box marked")
    return None, 0.2 if marked or doubtful else 0.1


def _background(frame: FormFrame, canvas: Mask, printed: Mask) -> float:
    """The speckle left on blank paper: the median ink density of 5 mm cells clear of print."""
    cell = round(5 * SCALE)
    densities = []
    h, w = canvas.shape
    for y in range(0, h - cell, cell):
        for x in range(0, w - cell, cell):
            if not printed[y:y + cell, x:x + cell].any():
                densities.append(float(canvas[y:y + cell, x:x + cell].mean()))
    return float(np.median(densities)) if densities else 0.0


def _ring(frame: FormFrame, canvas: Mask, printed: Mask, target: Rect, others: Sequence[AnswerBox], out_x: float,
          out_y: float) -> float:
    """The share of 24 directions around ``target`` in which a line is drawn just outside it.

    Looked at: from 0.8 mm outside the target to ``out_x``/``out_y`` mm, not on
    print, and nearer to this target than to any other box and label (a circle
    around a neighbour, wide as it may be, is the neighbour's). Directions mostly
    hidden by print (a box's own label) do not count either way.
    """
    y0, y1, x0, x1 = frame.slice(target.expanded(out_x, out_y))
    around = np.ones((y1 - y0, x1 - x0), dtype=bool)
    iy0, iy1, ix0, ix1 = frame.slice(target.expanded(0.8))
    around[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = False
    ox, oy = frame.origin
    ys, xs = np.nonzero(around)
    mx, my = (xs + x0) / SCALE + ox, (ys + y0) / SCALE + oy
    cx, cy = target.center
    angle = np.arctan2((my - cy) / (target.h / 2 + 3), (mx - cx) / (target.w / 2 + 3))
    sectors = ((angle + math.pi) / (2 * math.pi) * 24).astype(int) % 24
    whole = np.bincount(sectors, minlength=24)
    own = rect_distance(target, mx, my)
    keep = ~printed[y0:y1, x0:x1][ys, xs]
    for other in others:
        keep &= own < rect_distance(other.box.union(other.label), mx, my)
    seen = np.bincount(sectors[keep], minlength=24)
    available = (seen >= 60) & (seen >= 0.35 * whole)
    inked = np.bincount(sectors[keep & canvas[y0:y1, x0:x1][ys, xs]], minlength=24) >= 30
    if available.sum() == 0:
        return 0.0
    return float((inked & available).sum() / available.sum())


# ---------------------------------------------------------------------------------------------
# Image helpers
