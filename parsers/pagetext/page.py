"""What a page reads as: ``PageText``, its ``Word``\\ s and ``Rule``\\ s, whichever source they came from.

Millimetres from the top-left corner of the upright page throughout; ``mm * dpi / 25.4`` is the pixel
in ``PageText.image``. A word's text is as read, NFC, never NFKC. ``rotation`` is the quarter turns
(counter-clockwise, degrees) the page was given to stand upright: 0, 90, 180 or 270; ``skew`` the skew
found, counter-clockwise positive, which the picture was turned back by. ``conf`` is Tesseract's word
confidence / 100, the lowest of the parts of a word; 1.0 from a text layer.

Only the data and the units are here, so that a reader of pages (``parsers.faxorder``) needs neither
pdfplumber nor OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PIL import Image

__all__ = ["HEADER_LINE_MM", "MM_PER_INCH", "PageText", "Rule", "Word"]

MM_PER_INCH = 25.4
HEADER_LINE_MM = 8.0  # a fax machine's header line (TTI) lies within this much of the top


@dataclass(frozen=True)
class Word:
    """A run of text on one visual line without a gap wider than about a character's height.

    Millimetres from the top-left corner of the upright page. ``conf`` is 1.0 from a text
    layer, Tesseract's confidence / 100 from OCR (the lowest of the parts merged into it).
    ``alternatives``: other readings of the same ink, when OCR read it again (``rereading``, ``agreement``);
    a reader that knows what the word may say (a product master) can pick among them.
    ``token_confs``: where in ``text`` each of Tesseract's tokens ends, and its confidence, when the word is
    more than one token (a label and its value: "Deliver on." read at 0.55, "2026/11/27" at 0.96).
    """

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float
    line: int
    alternatives: tuple[str, ...] = ()
    token_confs: tuple[tuple[int, float], ...] = ()

    def conf_of(self, start: int, end: int | None = None) -> float:
        """The confidence of ``text[start:end]``: of the tokens that reach into it."""
        begins = [0, *(token_end for token_end, _ in self.token_confs)]
        confs = [conf for begin, (token_end, conf) in zip(begins, self.token_confs, strict=False)
                 if token_end > start and (end is None or begin < end)]
        return min(confs) if confs else self.conf


@dataclass(frozen=True)
class Rule:
    """A ruled line of the page (across or down), in millimetres; its thickness is its short side."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.bottom - self.top)


@dataclass
class PageText:
    """A page's words and rules, and the picture they were read from (``px = mm * dpi / 25.4``)."""

    number: int
    width_mm: float
    height_mm: float
    words: tuple[Word, ...]
    rules: tuple[Rule, ...]
    source: Literal["text", "ocr"]
    image: Image.Image
    dpi: float
    rotation: int
    skew: float
    ms: float

    @property
    def text(self) -> str:
        """The page's words, a line of text per line, two spaces between words (for logs and eyes)."""
        lines: dict[int, list[str]] = {}
        for word in self.words:
            lines.setdefault(word.line, []).append(word.text)
        return "\n".join("  ".join(parts) for _, parts in sorted(lines.items()))
