"""A sheet's words as lines, and the fields cut from them: what every part of the sheet is read with.

A ``Line`` is the words ``parsers.pagetext`` put on one visual line, left to right;
``field_of`` makes a ``Field`` of some of its words (their box, their least
confidence), ``after`` finds what follows a label, and ``another_reading`` weighs
OCR's other readings of a word when the first one gives nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from parsers.faxorder.readings import Field
from parsers.normalize import fold_for_match
from parsers.pagetext.page import PageText, Word

_T = TypeVar("_T")


@dataclass(frozen=True)
class Line:
    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def folded(self) -> str:
        return fold_for_match(self.text)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)


def page_lines(page: PageText) -> list[Line]:
    by_line: dict[int, list[Word]] = {}
    for word in page.words:
        if word.text.strip():
            by_line.setdefault(word.line, []).append(word)
    lines = [Line(page.number, tuple(sorted(words, key=lambda w: w.x0))) for _, words in sorted(by_line.items())]
    return sorted(lines, key=lambda line: line.top)


def field_of(words: Sequence[Word], page: int, value: str | None, *, text: str | None = None,
             reason: str | None = None) -> Field:
    box = (min(w.x0 for w in words), min(w.top for w in words), max(w.x1 for w in words),
           max(w.bottom for w in words)) if words else (0.0, 0.0, 0.0, 0.0)
    confidence = min((w.conf for w in words), default=0.0) if value is not None else 0.0
    joined = text if text is not None else join(words)
    return Field(joined, value, confidence, page, box, reason)


def join(words: Iterable[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def after(line: Line, label: re.Pattern[str], *, whole_line: bool = False) -> tuple[list[Word], str] | None:
    """What follows the label on ``line``: the rest of the label's own word, else the next word (a cell to the
    right); with ``whole_line`` every word after the label. None without the label."""
    for i, word in enumerate(line.words):
        folded = fold_for_match(word.text)
        match = label.search(folded)
        if not match:
            continue
        end = _original_end(word.text, match.end())
        rest = word.text[end:].lstrip(" :：.・")
        start, rest = len(word.text) - len(rest), rest.rstrip(" :：")
        following = list(line.words[i + 1:]) if whole_line else list(line.words[i + 1:i + 2])
        if rest:
            # as sure as OCR was of the rest: a label read doubtfully ("Deliver on." 0.55) is no doubt on the date
            word = replace(word, conf=word.conf_of(start))
            return [word, *following] if whole_line else [word], " ".join([rest, *(w.text for w in following)]) \
                if whole_line else rest
        return following, " ".join(w.text for w in following)
    return None


def _original_end(text: str, folded_end: int) -> int:
    """The index in ``text`` where its folded form's first ``folded_end`` characters end."""
    for end in range(len(text) + 1):
        if len(fold_for_match(text[:end])) >= folded_end:
            return end
    return len(text)


def another_reading(word: Word, read: Callable[[str], _T | None],
                    key: Callable[[_T], Hashable] = lambda value: value) -> tuple[str, _T] | None:
    """The one value (by ``key``) that OCR's other readings of ``word`` give, and the first of them to give it;
    None when they give none, or more than one (a digit read 9, and again 4: neither is the quantity)."""
    found: dict[Hashable, tuple[str, _T]] = {}
    for text in word.alternatives:
        if (value := read(text)) is not None:
            found.setdefault(key(value), (text, value))
    return next(iter(found.values())) if len(found) == 1 else None
