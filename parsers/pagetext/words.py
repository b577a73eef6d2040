"""Words and visual lines from the pieces of a page, the same from both sources.

A piece is a character of a text layer or a blob of ink of a scan (``Piece``). A word is a run of
pieces on one visual line with no gap wider than about a character's height (``SPLIT_EM`` = 0.8
between the characters' advance boxes of a text layer, ``OCR_SPLIT_EM`` = 0.95 between ink boxes,
which are further apart by the side bearings), nor a vertical rule: the cells of a table row are
separate words, and so are "ほうれん草　　4束". Runs join left to right, each piece to the run it
overlaps most (half the shorter height; a comma below the baseline or a handakuten above a half-width
kana within a third of the line's height); a dot further than a third of a character from a word is
dust, unless it is one of a colon's two. Parts join without a space inside Japanese (nor, from OCR,
inside a number), with one space between Latin words: "TEL 03-1111-2222", "玉ねぎ北海道産". ``line``
numbers the visual lines top to bottom: runs overlapping half of a line's (median) extent are on it, so
the cells of a table row share a line however far apart they are.

The sources differ only in their pieces and their thresholds (``text_layer``, ``segments``).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from parsers.pagetext.page import Rule, Word

KANA = "[\u3041-\u3096\u30a1-\u30fc]"  # hiragana and katakana, with ー, as a regular expression's class


@dataclass(frozen=True)
class Piece:
    """What a source gives: a character of a text layer, or a blob of ink of a scan, in page units."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    em: float  # the height of a character of its size, in page units
    label: int = 0  # the connected component it is, on a scan


@dataclass
class Run:
    """Pieces that make one word, left to right."""

    pieces: list[Piece]
    x0: float
    top: float
    x1: float
    bottom: float
    em: float

    @classmethod
    def of(cls, piece: Piece) -> Run:
        return cls([piece], piece.x0, piece.top, piece.x1, piece.bottom, piece.em)

    def take(self, pieces: Iterable[Piece]) -> None:
        for piece in pieces:
            self.pieces.append(piece)
            self.x0, self.top = min(self.x0, piece.x0), min(self.top, piece.top)
            self.x1, self.bottom = max(self.x1, piece.x1), max(self.bottom, piece.bottom)
            self.em = max(self.em, piece.em)


def is_cjk(ch: str) -> bool:
    """Kana, kanji, CJK punctuation, full-width and half-width forms: written without spaces between."""
    code = ord(ch)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
            or 0x20000 <= code <= 0x2FFFF)


def is_kana(ch: str) -> bool:
    return 0x3041 <= ord(ch) <= 0x30FF or 0xFF66 <= ord(ch) <= 0xFF9F


def _overlap(top: float, bottom: float, other_top: float, other_bottom: float) -> float:
    """How much two vertical extents overlap, as a share of the shorter."""
    shorter = min(bottom - top, other_bottom - other_top)
    common = min(bottom, other_bottom) - max(top, other_top)
    if shorter <= 0:
        return 1.0 if common >= 0 else 0.0
    return common / shorter


def join_runs(pieces: Sequence[Piece], verticals: Sequence[tuple[float, float, float]], split: float) -> list[Run]:
    """Pieces in runs, left to right: each joins the run on its left it overlaps most, unless more than
    ``split`` characters or a vertical rule (x, top, bottom) lie between."""
    reach = split * max((p.em for p in pieces), default=0.0)
    colons = _colon_dots(pieces)
    open_: list[Run] = []
    done: list[Run] = []
    for piece in sorted(pieces, key=lambda p: (p.x0, p.top)):
        done += [run for run in open_ if piece.x0 - run.x1 > reach]
        open_ = [run for run in open_ if piece.x0 - run.x1 <= reach]
        best: Run | None = None
        best_overlap = 0.5
        size = max(piece.bottom - piece.top, piece.x1 - piece.x0)
        for run in open_:
            gap = piece.x0 - run.x1
            height = run.bottom - run.top
            if gap > split * max(run.em, piece.em):
                continue
            if size < 0.25 * run.em and gap > 0.35 * run.em and piece.label not in colons:
                continue  # a dot close by is a comma or a full stop, one further off a speck of dust
            if piece.bottom - piece.top > 3 * height:
                continue  # a stroke down the page is not a character of this line
            if size < 0.5 * height:
                # a comma below the digits' baseline, a handakuten above a half-width kana
                overlap = _overlap(piece.top, piece.bottom, run.top - 0.3 * height, run.bottom + 0.3 * height)
            else:
                overlap = _overlap(piece.top, piece.bottom, run.top, run.bottom)
            if overlap >= best_overlap and not _rule_between(run, piece, verticals):
                best, best_overlap = run, overlap
        if best is None:
            open_.append(Run.of(piece))
        else:
            best.take([piece])
    return done + open_


def _colon_dots(pieces: Sequence[Piece]) -> set[int]:
    """The labels of the dots of a scan that have a dot of their size just above or below: a colon, not dust."""
    dots = sorted((p for p in pieces if p.label and 0.5 <= (p.x1 - p.x0 + 1) / (p.bottom - p.top + 1) <= 2),
                  key=lambda p: p.x0)
    lefts = [p.x0 for p in dots]
    found: set[int] = set()
    for dot in dots:
        size = max(dot.x1 - dot.x0, dot.bottom - dot.top)
        for other in dots[bisect.bisect_left(lefts, dot.x0 - size / 2):bisect.bisect_right(lefts, dot.x0 + size / 2)]:
            apart = abs((other.top + other.bottom) - (dot.top + dot.bottom)) / 2
            similar = 0.6 * size <= max(other.x1 - other.x0, other.bottom - other.top) <= 1.6 * size
            if other is not dot and similar and 1.5 * size <= apart <= 6 * size:
                found.add(dot.label)
    return found


def _rule_between(run: Run, piece: Piece, verticals: Sequence[tuple[float, float, float]]) -> bool:
    middle = (piece.top + piece.bottom) / 2
    slack = 0.1 * max(run.em, piece.em)  # a rule may touch a glyph's box
    return any(run.x1 - slack <= x <= piece.x0 + slack and top <= middle <= bottom for x, top, bottom in verticals)


def _line_numbers(runs: Sequence[Run]) -> list[int]:
    """Each run's visual line, numbered top to bottom: a run overlapping half a line's median extent is on it."""
    lines: list[list[int]] = []
    cores: list[tuple[float, float]] = []
    for index in sorted(range(len(runs)), key=lambda i: (runs[i].top + runs[i].bottom) / 2):
        run = runs[index]
        best, best_overlap = -1, 0.5
        for n in range(max(0, len(lines) - 4), len(lines)):
            overlap = _overlap(run.top, run.bottom, *cores[n])
            if overlap >= best_overlap:
                best, best_overlap = n, overlap
        if best < 0:
            lines.append([index])
            cores.append((run.top, run.bottom))
        else:
            lines[best].append(index)
            cores[best] = (float(np.median([runs[i].top for i in lines[best]])),
                           float(np.median([runs[i].bottom for i in lines[best]])))
    numbers = [0] * len(runs)
    for number, n in enumerate(sorted(range(len(lines)), key=lambda n: cores[n][0] + cores[n][1])):
        for index in lines[n]:
            numbers[index] = number
    return numbers


_NUMERIC = frozenset("0123456789,.-/:")
NUMBER = re.compile(r"[0-9][0-9,.]*")


def _join(left: str, right: str, space: bool, *, ocr: bool = False) -> str:
    """Two parts of a word, with a space between if there is room for one, never inside Japanese, nor
    inside a number read by OCR (a 1 has wide side bearings: "03-11 1 1" is 03-1111)."""
    if not left or not right or not space:
        return left + right
    if is_cjk(left[-1]) and is_cjk(right[0]) or ocr and left[-1] in _NUMERIC and right[0] in _NUMERIC:
        return left + right
    return f"{left} {right}"


def join_spaced(parts: Iterable[tuple[str, float, float]], space: float, *, ocr: bool = False) -> str:
    """A word from its parts (text, left, right), left to right: a space where a part starts ``space`` or more
    right of all before it, as ``_join`` allows."""
    text = ""
    right = -math.inf
    for part, left, end in parts:
        text = _join(text, part, left - right >= space, ocr=ocr)
        right = max(right, end)
    return text


def vertical_lines(rules: Iterable[Rule], per_mm: float) -> list[tuple[float, float, float]]:
    """The rules down the page as ``join_runs`` takes them: (x, top, bottom), in page units (``per_mm`` a mm)."""
    return [((r.x0 + r.x1) / 2 * per_mm, r.top * per_mm, r.bottom * per_mm) for r in rules if not r.horizontal]


# a Word's text, conf, alternatives and token_confs
WordReading = tuple[str, float, tuple[str, ...], tuple[tuple[int, float], ...]]


def page_words(runs: Sequence[Run], texts: Sequence[WordReading], scale: float) -> tuple[Word, ...]:
    """Words from runs (page units; ``scale`` mm per unit) and their readings, sorted by (line, x0)."""
    words = [Word(text=text, x0=round(float(run.x0) * scale, 2), top=round(float(run.top) * scale, 2),
                  x1=round(float(run.x1) * scale, 2), bottom=round(float(run.bottom) * scale, 2),
                  conf=round(float(conf), 3), line=line, alternatives=alternatives, token_confs=token_confs)
             for run, (text, conf, alternatives, token_confs), line
             in zip(runs, texts, _line_numbers(runs), strict=True)]
    return tuple(sorted(words, key=lambda w: (w.line, w.x0)))
