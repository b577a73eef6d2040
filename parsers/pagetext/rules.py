"""The ruled lines of a page's tables (``Rule``), from a PDF's drawing or from a scan's ink.

From a PDF: its straight lines, thin rectangles, the sides of stroked rectangles, and frames filled
even-odd (a dark rectangle with another just inside: how WeasyPrint and some spreadsheets draw cell
borders). Either way, collinear pieces (the sides of adjoining cells, a line broken by noise) are
merged into one rule (``merge_rules``).

From a scan (upright and deskewed): an opening with long thin kernels (15 mm across, 12 mm down: longer
than any stroke of a character) over the ink thickened by a pixel across the line; the rules' ink is
taken out before reading, with their ragged edges. Pieces of one rule across (a light line a fax sent
as dashes) are one rule where the ink along the line covers a fifth of the gap; a hairline sent as
short dashes is found with its gaps closed (1 mm), when it stays thinner than text (0.8 mm) with white
beside it; a shorter line down the page from a rule across to another, with no ink beside it, is the
side of a boxed cell (「納品日 | 11/25」). A line down the page that does not end on lines across it at
both ends is a streak, not a rule.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from parsers.pagetext.page import MM_PER_INCH, Rule
from parsers.pagetext.picture import Mask, components

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]

THIN_MM = 1.2  # a PDF rectangle no thicker than this is a rule
H_RULE_MM = 15.0  # the shortest rule found on a scan across the page, longer than a character's stroke
V_RULE_MM = 12.0  # and down the page
BROKEN_GAP_MM = 80.0  # the longest gap bridged between two pieces of one rule across
BROKEN_INK = 0.2  # and the share of that gap the ink along the line must cover
DASH_GAP_MM = 1.0  # gaps this wide in a thin rule across are closed before looking for it
DASHED_MM = 0.8  # and what is found then is a rule only when no taller (a line of text closes into taller runs)
CELL_SIDE_MM = 4.0  # a shorter line down the page is a rule only as the side of a boxed cell
SIDE_REACH_MM = 0.8  # how near a rule across such a side must end


def _dark(color: object) -> bool:
    """Whether a PDF colour (gray, RGB or CMYK) is dark enough for a line; a pattern is not."""
    if isinstance(color, (int, float)):
        values: tuple[float, ...] = (float(color),)
    elif isinstance(color, (tuple, list)) and all(isinstance(v, (int, float)) for v in color):
        values = tuple(float(v) for v in color)
    else:
        return color is None  # none set: PDF's default, black
    if len(values) == 1:
        luminance = values[0]
    elif len(values) == 3:
        luminance = 0.299 * values[0] + 0.587 * values[1] + 0.114 * values[2]
    elif len(values) == 4:
        c, m, y, k = values
        luminance = (1 - min(1.0, c + k)) * 0.299 + (1 - min(1.0, m + k)) * 0.587 + (1 - min(1.0, y + k)) * 0.114
    else:
        return False
    return luminance < 0.6


def pdf_rules(page: Any, x_off: float, y_off: float, scale: float) -> list[Rule]:
    """Table ruling from the page's lines and rectangles (thin ones, stroked ones' sides, filled frames)."""
    thin = THIN_MM / scale
    boxes: list[Box] = []
    for line in page.lines:
        x0, top, x1, bot = (float(line[k]) for k in ("x0", "top", "x1", "bottom"))
        half = max(float(line.get("linewidth") or 0.0), 0.1) / 2
        if x1 - x0 <= thin:
            boxes.append((x0 - half, top, x1 + half, bot))
        elif bot - top <= thin:
            boxes.append((x0, top - half, x1, bot + half))
    filled: list[Box] = []
    for rect in page.rects:
        box = (float(rect["x0"]), float(rect["top"]), float(rect["x1"]), float(rect["bottom"]))
        stroked = bool(rect.get("stroke")) and _dark(rect.get("stroking_color"))
        solid = bool(rect.get("fill")) and _dark(rect.get("non_stroking_color"))
        if min(box[2] - box[0], box[3] - box[1]) <= thin:
            if stroked or solid:
                boxes.append(box)
        elif stroked:
            half = max(float(rect.get("linewidth") or 0.0), 0.1) / 2
            boxes += _frame((box[0] - half, box[1] - half, box[2] + half, box[3] + half),
                            (box[0] + half, box[1] + half, box[2] - half, box[3] - half))
        elif solid:
            filled.append(box)
    boxes += _filled_frames(filled, thin)
    return merge_rules([((b[0] - x_off) * scale, (b[1] - y_off) * scale, (b[2] - x_off) * scale,
                         (b[3] - y_off) * scale) for b in boxes], min_length=2.0)


def _filled_frames(filled: list[Box], thin: float) -> list[Box]:
    """The sides of borders drawn as a dark rectangle with another just inside it, filled even-odd
    (WeasyPrint, some spreadsheets). A dark rectangle alone is a block (a mark, a black box), no rule."""
    filled.sort()
    lefts = [box[0] for box in filled]
    sides: list[Box] = []
    for outer in filled:
        for inner in filled[bisect.bisect_left(lefts, outer[0]):bisect.bisect_right(lefts, outer[0] + thin)]:
            margins = (inner[0] - outer[0], inner[1] - outer[1], outer[2] - inner[2], outer[3] - inner[3])
            if inner is not outer and all(0 <= m <= thin for m in margins) and max(margins) > 0:
                sides += _frame(outer, inner)
                break
    return sides


def _frame(outer: Box, inner: Box) -> list[Box]:
    ox0, otop, ox1, obot = outer
    ix0, itop, ix1, ibot = inner
    return [(ox0, otop, ox1, itop), (ox0, ibot, ox1, obot), (ox0, otop, ix0, obot), (ix1, otop, ox1, obot)]


def merge_rules(boxes: Iterable[Box], *, min_length: float, gap: float = 1.0, across: float = 0.6) -> list[Rule]:
    """Rules (mm) from boxes: the pieces of one line (the sides of adjoining cells, a line broken by noise) as one."""
    horizontal: list[Box] = []
    vertical: list[Box] = []
    for x0, top, x1, bot in boxes:
        if x1 - x0 > 0 or bot - top > 0:
            (horizontal if x1 - x0 >= bot - top else vertical).append((x0, top, x1, bot))
    rules = [Rule(*b) for b in _merge_runs(horizontal, gap, across) if b[2] - b[0] >= min_length]
    down = _merge_runs([(b[1], b[0], b[3], b[2]) for b in vertical], gap, across)
    rules += [Rule(b[1], b[0], b[3], b[2]) for b in down if b[2] - b[0] >= min_length]
    rounded = (Rule(*(round(float(v), 2) for v in (r.x0, r.top, r.x1, r.bottom))) for r in rules)
    return sorted(rounded, key=_across_first)


def _merge_runs(boxes: list[Box], gap: float, across: float) -> list[Box]:
    """Boxes along x merged when their middles are within ``across`` and they overlap or nearly touch."""
    merged: list[list[float]] = []
    for box in sorted(boxes, key=lambda b: ((b[1] + b[3]) / 2, b[0])):
        mid = (box[1] + box[3]) / 2
        for other in reversed(merged):
            if mid - (other[1] + other[3]) / 2 > across:
                merged.append(list(box))
                break
            if box[0] <= other[2] + gap and other[0] <= box[2] + gap:
                other[0], other[1] = min(other[0], box[0]), min(other[1], box[1])
                other[2], other[3] = max(other[2], box[2]), max(other[3], box[3])
                break
        else:
            merged.append(list(box))
    result = [(b[0], b[1], b[2], b[3]) for b in merged]
    # a merge can make two runs of one line meet: again until nothing changes
    return result if len(result) == len(boxes) else _merge_runs(result, gap, across)



def scan_rules(ink: Mask, dpi: float) -> tuple[Mask, list[Rule]]:
    """Long straight lines of the upright, deskewed ink: their pixels (with ragged edges) and the rules in mm.

    An opening with a long thin kernel keeps only runs of ink longer than any stroke of a character; the
    ink is thickened across the line by a pixel first, so that a rule a pixel off its row here and there
    (a residual skew, a ragged fax edge) still runs unbroken. A shorter line down the page is the side of
    a cell one line high (「納品日 | 11/25」 boxed) when it runs from a rule across to another: a
    character's stroke ends short of them.
    """
    px_per_mm = dpi / MM_PER_INCH
    src = ink.view(np.uint8)
    found = np.zeros_like(ink)
    boxes: list[Box] = []
    for horizontal in (True, False):
        length = max(3, round((H_RULE_MM if horizontal else V_RULE_MM) * px_per_mm))
        bridge = np.ones((3, 1) if horizontal else (1, 3), np.uint8)
        kernel = np.ones((1, length) if horizontal else (length, 1), np.uint8)
        opened = cv2.morphologyEx(cv2.dilate(src, bridge), cv2.MORPH_OPEN, kernel).view(np.bool_) & ink
        # the ragged edges go with the rule, or they are read as ー and _
        found |= cv2.dilate(opened.view(np.uint8), np.ones((5, 5), np.uint8)).view(np.bool_) & ink
        count, _, stats = components(opened)
        for x, y, w, h, _area in stats[1:count]:
            if (w if horizontal else h) >= length:
                boxes.append((x / px_per_mm, y / px_per_mm, (x + w) / px_per_mm, (y + h) / px_per_mm))
    dashed_ink, dashed = _dashed_rules(src, px_per_mm)
    found |= dashed_ink & ink
    boxes += dashed
    rules = merge_rules(boxes, min_length=min(H_RULE_MM, V_RULE_MM), gap=2.0, across=1.0)
    rules, bridged = _bridge_broken(rules, ink, px_per_mm)
    found |= bridged
    sides, side_ink = _cell_sides(ink & ~found, px_per_mm, [r for r in rules if r.horizontal])
    found |= cv2.dilate(side_ink.view(np.uint8), np.ones((3, 3), np.uint8)).view(np.bool_) & ink
    rules += sides
    return found, _ruled(sorted(rules, key=_across_first))


def _dashed_rules(src: npt.NDArray[np.uint8], px_per_mm: float) -> tuple[Mask, list[Box]]:
    """Thin rules across that a fax sent as dashes (a hairline, a light gray row line): gaps up to
    ``DASH_GAP_MM`` closed along the line, then runs as long as a rule that stay thin.

    Closing also joins the strokes of a line of text into long runs: those are as tall as the text, or,
    where only a few of its rows close, have its ink just above and below; a rule is no taller than
    ``DASHED_MM`` and has white on one side at least.
    """
    length = round(H_RULE_MM * px_per_mm)
    closed = cv2.morphologyEx(cv2.dilate(src, np.ones((3, 1), np.uint8)), cv2.MORPH_CLOSE,
                              np.ones((1, max(3, round(DASH_GAP_MM * px_per_mm))), np.uint8))
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)).view(np.bool_)
    count, labels, stats = components(opened)
    near = round(DASHED_MM * px_per_mm)
    ink = src.view(np.bool_)

    def clear_beside(x: int, y: int, w: int, h: int) -> bool:
        # a rule has white on one side at least; rows of text cut through the middle (their strokes closed)
        # have ink on both
        above, below = ink[max(0, y - near):max(0, y - 1), x:x + w], ink[y + h + 1:y + h + near, x:x + w]
        return any(side.size == 0 or side.any(axis=0).mean() <= 0.3 for side in (above, below))

    thin = [label for label in range(1, count)
            if stats[label, 2] >= length and stats[label, 3] <= DASHED_MM * px_per_mm
            and clear_beside(*(int(v) for v in stats[label, :4]))]
    found = np.isin(labels, thin)
    boxes = [(x / px_per_mm, y / px_per_mm, (x + w) / px_per_mm, (y + h) / px_per_mm)
             for x, y, w, h, _area in (stats[label] for label in thin)]
    return cv2.dilate(found.view(np.uint8), np.ones((5, 5), np.uint8)).view(np.bool_), boxes


def _bridge_broken(rules: list[Rule], ink: Mask, px_per_mm: float) -> tuple[list[Rule], Mask]:
    """Pieces of one rule across, broken by a faint fax (a light gray line sent as dashes), as one rule:
    pieces on one line with ink along the line across ``BROKEN_INK`` of the gap. Also the ink taken with them."""
    found = np.zeros_like(ink)
    lines: list[list[Rule]] = []
    for rule in sorted((r for r in rules if r.horizontal), key=lambda r: r.top + r.bottom):
        if lines and abs(lines[-1][0].top + lines[-1][0].bottom - rule.top - rule.bottom) <= 2 * 0.6:
            lines[-1].append(rule)
        else:
            lines.append([rule])
    out: list[Rule] = []
    for pieces in lines:
        merged: list[Rule] = []
        for rule in sorted(pieces, key=lambda r: r.x0):
            last = merged[-1] if merged else None
            if last is not None and 0 < rule.x0 - last.x1 <= BROKEN_GAP_MM:
                y = round((rule.top + rule.bottom + last.top + last.bottom) / 4 * px_per_mm)
                band = slice(max(0, y - round(0.5 * px_per_mm)), y + round(0.5 * px_per_mm) + 1)
                gap = slice(round(last.x1 * px_per_mm), round(rule.x0 * px_per_mm))
                if ink[band, gap].any(axis=0).mean() >= BROKEN_INK:
                    found[band, gap] = ink[band, gap]
                    merged[-1] = Rule(last.x0, min(last.top, rule.top), rule.x1, max(last.bottom, rule.bottom))
                    continue
            merged.append(rule)
        out += merged
    return out + [r for r in rules if not r.horizontal], found


def _cell_sides(ink: Mask, px_per_mm: float, across: Sequence[Rule]) -> tuple[list[Rule], Mask]:
    """Lines down the page shorter than ``V_RULE_MM`` that run from a rule across to another (within
    ``SIDE_REACH_MM`` of each): the sides of boxed cells, and their pixels."""
    if not across:
        return [], np.zeros_like(ink)
    length = max(3, round(CELL_SIDE_MM * px_per_mm))
    opened = cv2.morphologyEx(cv2.dilate(ink.view(np.uint8), np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN,
                              np.ones((length, 1), np.uint8)).view(np.bool_) & ink
    count, labels, stats = components(opened)
    out = []
    side = np.zeros(count, dtype=np.bool_)
    for label in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[label])
        if h < length or w > 1.0 * px_per_mm:
            continue
        mid, top, bottom = (x + w / 2) / px_per_mm, y / px_per_mm, (y + h) / px_per_mm
        # a streak down the page through a boxed cell runs through the characters in it, a side does not
        inside = slice(y + round(px_per_mm), y + h - round(px_per_mm))
        beside = ink[inside, max(0, x - 2)] | ink[inside, min(ink.shape[1] - 1, x + w + 1)]
        if beside.size and beside.mean() > 0.1:
            continue
        if all(any(r.x0 - SIDE_REACH_MM <= mid <= r.x1 + SIDE_REACH_MM and abs((r.top + r.bottom) / 2 - end)
                   <= SIDE_REACH_MM for r in across) for end in (top, bottom)):
            side[label] = True
            out.append(Rule(round(mid - w / 2 / px_per_mm, 2), round(top, 2), round(mid + w / 2 / px_per_mm, 2),
                            round(bottom, 2)))
    return out, side[labels]


def _ruled(rules: list[Rule], reach: float = 2.5) -> list[Rule]:
    """The rules without the fax's streaks down the page (dirt on the scanner's glass): a table's rule down
    the page ends on rules across it, at both ends; a streak runs through the words it meets."""
    across = [r for r in rules if r.horizontal]

    def ends_on_rule(y: float, x: float) -> bool:
        return any(r.x0 - reach <= x <= r.x1 + reach and abs((r.top + r.bottom) / 2 - y) <= reach for r in across)

    kept = []
    for rule in rules:
        x = (rule.x0 + rule.x1) / 2
        if rule.horizontal or ends_on_rule(rule.top, x) and ends_on_rule(rule.bottom, x):
            kept.append(rule)
        else:
            log.debug("a line down the page at %.1f mm, %.1f to %.1f mm, that ends on no rule: a streak", x,
                      rule.top, rule.bottom)
    return kept


def _across_first(rule: Rule) -> tuple[bool, float, float]:
    """How rules are listed: those across the page first, each kind top to bottom, then left to right."""
    return not rule.horizontal, rule.top, rule.x0
