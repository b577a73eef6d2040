"""read_document: the words on each page of an order, with their places and confidences.

Legacy buyers fax their own order sheets, or mail them as PDF. Whether a page has a
text layer (printed to PDF from a spreadsheet) or is a picture (a scan, a fax page, a
TIFF), it comes out the same: ``PageText`` with its ``Word``\\ s (text as read, NFC, never
NFKC), the ruled lines of its tables (``Rule``) and the upright, deskewed grayscale
picture that the coordinates refer to. Millimetres from the top-left corner of the
upright page throughout; ``mm * dpi / 25.4`` is the pixel in ``PageText.image``.

    pages = read_document(data, "application/pdf", "order.pdf")    # or a TIFF, PNG, JPEG
    for word in pages[0].words:                                      # sorted by (line, x0)
        print(word.line, word.text, word.x0, word.top, word.conf)

``read_document`` raises ``parsers.imaging.UnreadablePage`` and nothing else: what
``pages_from_attachment`` refuses (encrypted, corrupt, no pages, too many pages, too
large: its limits hold here too), and "OCR failed: ..." (Tesseract missing, failing,
or over ``OCR_TIMEOUT``, "OCR failed: timeout").

Words, the same from both sources
---------------------------------
A word is a run of characters on one visual line with no gap wider than about a
character's height (``SPLIT_EM`` = 0.8 between the characters' advance boxes of a
text layer, ``OCR_SPLIT_EM`` = 0.95 between ink boxes, which are further apart by the
side bearings), nor a vertical rule: the cells of a table row are separate words, and
so are "ほうれん草　　4束". Runs join left to right, each piece to the run it overlaps
most (half the shorter height; a comma below the baseline or a handakuten above a
half-width kana within a third of the line's height); a dot further than a third of a
character from a word is dust, unless it is one of a colon's two. Parts join without a
space inside Japanese (nor, from OCR, inside a number), with one space between Latin
words: "TEL 03-1111-2222", "玉ねぎ北海道産". ``line`` numbers the visual
lines top to bottom: runs overlapping half of a line's (median) extent are on it, so
the cells of a table row share a line however far apart they are.

Text layer (pdfplumber)
-----------------------
A PDF page with characters is read from them: points to millimetres, NFC. Rules come
from the page's straight lines, thin rectangles, the sides of stroked rectangles, and
frames filled even-odd (a dark rectangle with another just inside: how WeasyPrint and
some spreadsheets draw cell borders); collinear pieces (the sides of adjoining cells)
are merged into one rule. The picture is PDFium's 200 dpi render. A page is read by
OCR instead when it has no characters (a scan), when most are glyph numbers without
Unicode ("(cid:12)") or run sideways (a page turned by /Rotate), or when it is mostly
an image with a few characters on it (a fax gateway's header line over a scan).

OCR (Tesseract 5, as a subprocess, ``OMP_THREAD_LIMIT=1``)
--------------------------------------------------------
1. Square pixels (fax "normal" lines doubled), Otsu's threshold; specks of fax dust
   (up to 0.45 mm across, nothing within 0.8 mm, or a pixel or two) removed.
2. Skew and sideways pages from projection profiles of the middles of the blobs the
   size of characters: the angle within ±6° (to 0.01°) where their profile across the
   page (or down it) is sharpest; down sharper than across (1.5×): the page came
   sideways and is turned a quarter. The picture is turned by ``-skew`` about its
   centre, keeping its size. The sending machine's header line, printed straight across the top
   whatever the sheet's skew, is left out when the rest of the page says otherwise.
3. Rules: an opening with long thin kernels (15 mm across, 12 mm down: longer than any
   stroke of a character) over the ink thickened by a pixel across the line; they are
   taken out of the ink before reading, with their ragged edges. Pieces of one rule across
   (a light line a fax sent as dashes) are one rule where the ink along the line covers a fifth
   of the gap; a hairline sent as short dashes is found with its gaps closed (1 mm), when it
   stays thinner than text (0.8 mm) with white beside it; a shorter line down the page from a
   rule across to another, with no ink beside it, is the side of a boxed cell (「納品日 | 11/25」).
   A line down the page that does not end on lines across it at both ends is a streak, not a rule.
4. The layout is ours, not Tesseract's: connected components grouped into words as
   above (strokes stacked in one glyph, ﾐ or 二, runs inside another's box, and the top and
   bottom of a character alone, ⺮ over 相 in 箱, go with it). Each word's own ink is cut
   out with a margin and read as one line (``--psm 7``), all of a page's words as the pages
   of one TIFF in one process.
5. Orientation: the three longest words are read both ways up in one small process
   (~0.25 s); the page is turned by 180° if they read clearly better turned (by 0.15,
   and at least 0.6). Tesseract reads upside-down Japanese as nonsense at confidence
   ~0.2-0.3, upright at ~0.9; a page it reads badly both ways (English) stays as it is.
6. Words read without Japanese (amounts, phone numbers, units) or as one character are
   read again with the English model, its reading kept when more confident. Japanese words
   read unsure (under 0.8 a character), and kana narrower than full-width characters
   (half-width katakana, ﾄﾏﾄ, which the Japanese model cannot read as they are), are read
   again from the gray picture three ways: enlarged twice, with a wider margin, and drawn
   1.5 times as wide. The reading with no Latin letter inside kana, then the surest, is the
   word's text and the others are kept as its ``alternatives``, for the product master to
   choose among; a voicing mark read apart from its kana (フ~) is joined to it (ブ).
   Dust read as punctuation at a word's ends is dropped ("大根." → "大根", "1,800," →
   "1,800"), and so are tiny blots read unsure (a toner spot).
7. Every word is read again by a second reader of another family (``parsers.recognizer``:
   PP-OCRv5's recognizer), narrow kana also drawn 1.5 and 2 times as wide, and the two
   readings are weighed (``_weigh``): alike, the word is as sure as the surer reader; unlike,
   the surer reading a Japanese sheet can carry (no simplified Chinese kanji, no Latin inside
   kana) is the text, as sure as it was read less the other's confidence as far as the other
   differs, and the other reading is an alternative; where in the word they agree they are
   as sure as the surer (``token_confs``: 2束 against 2東, the 2 is sure). On the fax orders'
   sheets this turned handwritten 8 read る, 13 read 73 and 鶏卵 read 鶏更 into the right text
   (doubted where Tesseract was sure of something else), for ~0.5 s a page.

``rotation`` is the quarter turns (counter-clockwise, degrees) the page was given to
stand upright: 0, 90, 180 or 270; ``skew`` the skew found, counter-clockwise positive,
which the picture was turned back by. ``conf`` is Tesseract's word confidence / 100,
the lowest of the parts of a word; 1.0 from a text layer.

Measured (this machine, 2 cores; five faxes of a realistic order sheet: fine, normal
with noise, skewed 2°, upside down, normal and noisy; 52 words each; a word counts
when its text, NFKC and without whitespace, is read exactly within 3 mm of its place):

    Tesseract's own layout, the whole page, jpn:  psm 3 158/260   psm 4 154   psm 6 147   psm 11 138
                                        jpn+eng:  psm 3 168/260, at twice Tesseract's time
        (it drops whole lines where blocks are staggered, psm 11 drops lone digits, and its
        word boxes for Japanese run over the next words: 「有限」's box spans four characters)
    our layout, each word cut out, jpn:           psm 7 211/260   psm 8 200   psm 13 200
        characters wrong 7 % (psm 7), 9 % (8, 13); junk ~1.5 characters a page
        without the English re-read thousands commas come as full stops (181/260 at an
        earlier stage); jpn+eng for every word: 208/260, 9 % wrong, +35 % time
    orientation: OSD (``--psm 0``) right on 4/4 but ~1.1-1.2 s a page, even at 100 dpi;
        the probe ~0.25 s, longest words 0.87-0.95 upright vs 0.20-0.26 turned
    skew: the middles of the blobs within 0.05° (0.5° off on a sparse page from every
        pixel of ink: the profile of a few short lines is blunt)

bench/page_text.py (12 random sheets faxed: skew ±3°, noise 0.2-0.7, fine or normal,
a quarter upside down): words read exactly in place 82 %, table cells 88 %, skew within
0.07°, turned right 12/12. Per A4 page at 200 dpi: CPU p50 1.41 s, p95 1.57 s (the
probe 0.25, the words 0.6, the English re-read 0.15-0.2, the half-width one 0.18 when
needed, the image work 0.35); wall p50 1.5 s with the machine's other load at ~3, 2.1 s
at ~4. A page with a text layer: 70-130 ms with its 200 dpi render.

What OCR gets wrong on these pages (the parser must expect it):
- a full-width colon in small print (3.5 mm) looks like dust and goes: 「担当：山田」 comes
  as two words, 担当 and 山田; in larger print it stays, read as ":" ("納品希望日 :11/25(水)");
- a comma inside a Japanese word stays a full stop ("合計金額22.850円"), and the English
  re-read still misses a separator now and then (9/600, 5.600): the amounts' digits are
  right, their separators are for the parser to check (quantity × unit price = amount);
- a dakuten lost or added: にんじん read にんしん, 長ねぎ 長ねき;
- on a fax in normal resolution (every other line) with noise, a few more kanji and kana:
  キャペベツ, 北海道導; a lone digit in a cell read as a kana is read again in English;
- half-width katakana: ﾐﾆﾄﾏﾄ and ﾄﾏﾄ mostly read (as full-width ミニトマト, トマト: the same
  after NFKC), but ﾊﾟｯｸ and 3ｹｰｽ seldom;
- look-alike kanji: 束 read as 東, 渋 as 波; 玉 alone in a cell sometimes に;
- a gray cell background (the header row) becomes dither on a fax: its words are read
  less often; a stamp (印) gives nothing or a word of nonsense;
- fax streaks: a garbled scan line comes out as a rule across the page; a streak down
  the page (dirt on the glass) is no rule (a table's rules down the page end on rules
  across it), but it is taken out of the ink with the rules and cuts the characters it
  crosses. A table ruled only down the page (no rules across) loses its rules too.
"""

from __future__ import annotations

import bisect
import io
import logging
import math
import os
import re
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image
from rapidfuzz.distance import Levenshtein

from parsers.imaging import MAX_PAGE_PIXELS, RENDER_DPI, UnreadablePage, pages_from_attachment
from parsers.recognizer import read_words

__all__ = ["PageText", "Rule", "Word", "page_from_image", "read_document"]

log = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.int32]
Box = tuple[float, float, float, float]

MM_PER_INCH = 25.4
PT_PER_INCH = 72.0

SPLIT_EM = 0.8  # a gap wider than this many character heights (advance boxes) starts a new word
OCR_SPLIT_EM = 0.95  # the same between ink boxes: characters' side bearings widen the gap
SPACE_EM = 0.15  # a gap this wide between the advance boxes of Latin words is a space (a space: 0.25-0.33)
OCR_SPACE_EM = 0.25  # the same between ink boxes
THIN_MM = 1.2  # a PDF rectangle no thicker than this is a rule
MIN_TEXT_CHARS = 40  # fewer characters than this on a page that is mostly an image: the image is the page

LANGUAGES = "jpn"
PSM = 7  # each word cut out and read as one line: see the measurements above
OCR_TIMEOUT = 60.0  # seconds for one Tesseract process
ORIENTATION_SAMPLE = 3  # words read both ways up to tell which way up the page is
MAX_SKEW = 6.0  # degrees searched either way
SIDEWAYS = 1.5  # the columns' profile this much sharper than the rows': the text runs down the page
H_RULE_MM = 15.0  # the shortest rule found on a scan across the page, longer than a character's stroke
V_RULE_MM = 12.0  # and down the page
BROKEN_GAP_MM = 80.0  # the longest gap bridged between two pieces of one rule across
BROKEN_INK = 0.2  # and the share of that gap the ink along the line must cover
DASH_GAP_MM = 1.0  # gaps this wide in a thin rule across are closed before looking for it
DASHED_MM = 0.8  # and what is found then is a rule only when no taller (a line of text closes into taller runs)
CELL_SIDE_MM = 4.0  # a shorter line down the page is a rule only as the side of a boxed cell
SIDE_REACH_MM = 0.8  # how near a rule across such a side must end
HEADER_LINE_MM = 8.0  # a fax machine's header line (TTI) lies within this much of the top
MAX_GLYPH_MM = 25.0  # a bigger blob is no character (a logo, a frame)
MIN_WORD_MM = 0.8  # a smaller run is a speck the despeckler left
ENLARGE = 2  # unsure Japanese words are read again from the gray picture this many times larger
UNSURE_QUALITY = 0.8  # below this mean confidence per character a Japanese word is unsure
ENLARGE_MARGIN = 20  # pixels of white added around a word for one of its re-readings
HALF_STRETCH = 1.5  # and how much wider a word with kana is drawn for another (ﾚﾓﾝ is read レモン, not ルモッ)
SECOND_STRETCH = (1.5, 2.0)  # how much wider narrow kana are drawn for the second reader
BLOT_MM = 1.5  # a blob this small read unsure (conf < 0.5) is a toner spot


@dataclass(frozen=True)
class Word:
    """A run of text on one visual line without a gap wider than about a character's height.

    Millimetres from the top-left corner of the upright page. ``conf`` is 1.0 from a text
    layer, Tesseract's confidence / 100 from OCR (the lowest of the parts merged into it).
    ``alternatives``: other readings of the same ink, when OCR read it again (``_reread_enlarged``);
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


# -- entry points ----------------------------------------------------------------------------------


def read_document(data: bytes, content_type: str = "application/octet-stream", filename: str | None = None, *,
                  ocr_command: str = "tesseract") -> list[PageText]:
    """Every page of a PDF, TIFF or image attachment, read; raises ``UnreadablePage`` and nothing else."""
    started = time.perf_counter()
    images = pages_from_attachment(data, content_type, filename)
    render_ms = (time.perf_counter() - started) * 1000 / len(images)
    layers: list[Any] | None = None
    try:
        if b"%PDF-" in data[:1024]:
            layers = _pdf_layers(data, len(images), filename)
        pages = []
        for index, image in enumerate(images):
            page_started = time.perf_counter()
            page = _text_layer_or_none(layers[index], image, index + 1, filename) if layers else None
            if page is None:
                page = _ocr_page(image, index + 1, ocr_command)
            page.ms = (time.perf_counter() - page_started) * 1000 + render_ms
            log.debug("%s page %d: %s, %d words, %d rules, %.0f ms", filename or "attachment", page.number,
                      page.source, len(page.words), len(page.rules), page.ms)
            pages.append(page)
        return pages
    except UnreadablePage:
        raise
    except Exception as exc:  # a library's surprise on hostile bytes: still only a reason
        log.warning("attachment %s (%s): unexpected %s", filename, content_type, type(exc).__name__, exc_info=True)
        raise UnreadablePage(f"unreadable page: {type(exc).__name__}: {exc}") from exc
    finally:
        if layers:
            _close(layers[0].pdf)


def page_from_image(image: Image.Image, number: int = 1, *, ocr_command: str = "tesseract") -> PageText:
    """One page picture read by OCR (its ``info["dpi"]`` is its resolution, 200 dpi if it has none).

    Raises ``UnreadablePage`` and nothing else.
    """
    if image.width < 1 or image.height < 1:
        raise UnreadablePage("corrupt image: no size")
    if image.width * image.height > MAX_PAGE_PIXELS:
        raise UnreadablePage(f"image too large: {image.width}×{image.height} pixels")
    try:
        return _ocr_page(image, number, ocr_command)
    except UnreadablePage:
        raise
    except Exception as exc:
        log.warning("page %d: unexpected %s", number, type(exc).__name__, exc_info=True)
        raise UnreadablePage(f"unreadable page: {type(exc).__name__}: {exc}") from exc


def _pdf_layers(data: bytes, count: int, filename: str | None) -> list[Any] | None:
    """The PDF's pages as pdfplumber sees them, or None when it cannot read them (the pictures are read)."""
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # PDFium rendered what pdfminer cannot parse
        log.info("text layer of %s unreadable (%s: %s): its pages are read by OCR", filename, type(exc).__name__,
                 exc)
        return None
    try:
        pages = list(pdf.pages)
    except Exception as exc:
        log.info("page tree of %s unreadable to pdfplumber (%s): its pages are read by OCR", filename, exc)
        _close(pdf)
        return None
    if len(pages) != count:
        log.info("pdfplumber finds %d pages in %s, PDFium %d: its pages are read by OCR", len(pages), filename,
                 count)
        _close(pdf)
        return None
    return pages


def _close(pdf: Any) -> None:
    try:
        pdf.close()  # it goes through the pages again: what could not be read fails again
    except Exception:
        log.debug("closing a PDF pdfplumber could not read", exc_info=True)
        pdf.stream.close()


def _text_layer_or_none(page: Any, image: Image.Image, number: int, filename: str | None) -> PageText | None:
    """The page from its text layer; None when the picture is to be read, or pdfminer fails on the page
    (a broken content stream PDFium could render, a recursion in its objects)."""
    try:
        return _text_layer(page, image, number)
    except Exception as exc:
        log.info("page %d of %s: text layer unreadable (%s: %s), read by OCR", number, filename,
                 type(exc).__name__, exc)
        return None


# -- words, from whichever source ------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """What a source gives: a character of a text layer, or a blob of ink of a scan, in page units."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    em: float  # the height of a character of its size, in page units
    label: int = 0  # the connected component it is, on a scan


@dataclass
class _Run:
    """Pieces that make one word, left to right."""

    pieces: list[_Piece]
    x0: float
    top: float
    x1: float
    bottom: float
    em: float

    @classmethod
    def of(cls, piece: _Piece) -> _Run:
        return cls([piece], piece.x0, piece.top, piece.x1, piece.bottom, piece.em)

    def take(self, pieces: Iterable[_Piece]) -> None:
        for piece in pieces:
            self.pieces.append(piece)
            self.x0, self.top = min(self.x0, piece.x0), min(self.top, piece.top)
            self.x1, self.bottom = max(self.x1, piece.x1), max(self.bottom, piece.bottom)
            self.em = max(self.em, piece.em)


def _is_cjk(ch: str) -> bool:
    """Kana, kanji, CJK punctuation, full-width and half-width forms: written without spaces between."""
    code = ord(ch)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
            or 0x20000 <= code <= 0x2FFFF)


def _is_kana(ch: str) -> bool:
    return 0x3041 <= ord(ch) <= 0x30FF or 0xFF66 <= ord(ch) <= 0xFF9F


def _overlap(top: float, bottom: float, other_top: float, other_bottom: float) -> float:
    """How much two vertical extents overlap, as a share of the shorter."""
    shorter = min(bottom - top, other_bottom - other_top)
    common = min(bottom, other_bottom) - max(top, other_top)
    if shorter <= 0:
        return 1.0 if common >= 0 else 0.0
    return common / shorter


def _runs(pieces: Sequence[_Piece], verticals: Sequence[tuple[float, float, float]], split: float) -> list[_Run]:
    """Pieces in runs, left to right: each joins the run on its left it overlaps most, unless more than
    ``split`` characters or a vertical rule (x, top, bottom) lie between."""
    reach = split * max((p.em for p in pieces), default=0.0)
    colons = _colon_dots(pieces)
    open_: list[_Run] = []
    done: list[_Run] = []
    for piece in sorted(pieces, key=lambda p: (p.x0, p.top)):
        done += [run for run in open_ if piece.x0 - run.x1 > reach]
        open_ = [run for run in open_ if piece.x0 - run.x1 <= reach]
        best: _Run | None = None
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
            open_.append(_Run.of(piece))
        else:
            best.take([piece])
    return done + open_


def _colon_dots(pieces: Sequence[_Piece]) -> set[int]:
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


def _rule_between(run: _Run, piece: _Piece, verticals: Sequence[tuple[float, float, float]]) -> bool:
    middle = (piece.top + piece.bottom) / 2
    slack = 0.1 * max(run.em, piece.em)  # a rule may touch a glyph's box
    return any(run.x1 - slack <= x <= piece.x0 + slack and top <= middle <= bottom for x, top, bottom in verticals)


def _line_numbers(runs: Sequence[_Run]) -> list[int]:
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
_NUMBER = re.compile(r"[0-9][0-9,.]*")


def _join(left: str, right: str, space: bool, *, ocr: bool = False) -> str:
    """Two parts of a word, with a space between if there is room for one, never inside Japanese, nor
    inside a number read by OCR (a 1 has wide side bearings: "03-11 1 1" is 03-1111)."""
    if not left or not right or not space:
        return left + right
    if _is_cjk(left[-1]) and _is_cjk(right[0]) or ocr and left[-1] in _NUMERIC and right[0] in _NUMERIC:
        return left + right
    return f"{left} {right}"


# a Word's text, conf, alternatives and token_confs
_Read = tuple[str, float, tuple[str, ...], tuple[tuple[int, float], ...]]


def _words(runs: Sequence[_Run], texts: Sequence[_Read], scale: float) -> tuple[Word, ...]:
    """Words from runs (page units; ``scale`` mm per unit) and their readings, sorted by (line, x0)."""
    words = [Word(text=text, x0=round(float(run.x0) * scale, 2), top=round(float(run.top) * scale, 2),
                  x1=round(float(run.x1) * scale, 2), bottom=round(float(run.bottom) * scale, 2),
                  conf=round(float(conf), 3), line=line, alternatives=alternatives, token_confs=token_confs)
             for run, (text, conf, alternatives, token_confs), line
             in zip(runs, texts, _line_numbers(runs), strict=True)]
    return tuple(sorted(words, key=lambda w: (w.line, w.x0)))


# -- text layer ------------------------------------------------------------------------------------


def _usable(text: str) -> bool:
    if text.startswith("(cid:") or text == "\ufffd":
        return False  # a glyph without Unicode: only the picture says what it is
    return all(unicodedata.category(ch) not in ("Cc", "Co", "Cs", "Cn") for ch in text)


def _text_layer(page: Any, image: Image.Image, number: int) -> PageText | None:
    """The page read from its text layer, or None when its picture is to be read instead."""
    x_off, y_off, right, bottom = (float(v) for v in page.bbox)
    width_pt, height_pt = right - x_off, bottom - y_off
    scale = MM_PER_INCH / PT_PER_INCH
    chars = [c for c in page.chars if str(c.get("text", "")).strip()]
    usable = [c for c in chars if c.get("upright", True) and _usable(str(c["text"]))]
    if not usable or len(usable) < len(chars) / 2:
        return None  # no text, glyph numbers, or text running sideways: the picture is read
    pictured = sum(max(0.0, (float(i["x1"]) - float(i["x0"])) * (float(i["bottom"]) - float(i["top"])))
                   for i in page.images)
    if pictured >= 0.5 * width_pt * height_pt and len(usable) < MIN_TEXT_CHARS:
        return None  # a scan with a line of text stamped on it (a fax gateway's header): the scan is the page
    pieces = []
    for c in usable:
        x0, x1 = float(c["x0"]) - x_off, float(c["x1"]) - x_off
        top, bot = float(c["top"]) - y_off, float(c["bottom"]) - y_off
        if x1 > 0 and x0 < width_pt and bot > 0 and top < height_pt:
            em = float(c.get("size") or 0.0) or max(bot - top, 1e-3)
            pieces.append(_Piece(unicodedata.normalize("NFC", str(c["text"])), x0, top, x1, bot, em))
    rules = _pdf_rules(page, x_off, y_off, scale)
    verticals = [((r.x0 + r.x1) / 2 / scale, r.top / scale, r.bottom / scale) for r in rules if not r.horizontal]
    runs = _runs(pieces, verticals, SPLIT_EM)
    texts: list[_Read] = [(_run_text(run), 1.0, (), ()) for run in runs]
    gray = image if image.mode == "L" else image.convert("L")
    dpi = float(image.info.get("dpi", (RENDER_DPI, RENDER_DPI))[0])
    return PageText(number=number, width_mm=round(width_pt * scale, 2), height_mm=round(height_pt * scale, 2),
                    words=_words(runs, texts, scale), rules=tuple(rules), source="text", image=gray, dpi=dpi,
                    rotation=0, skew=0.0, ms=0.0)


def _run_text(run: _Run) -> str:
    text = ""
    right = -math.inf
    for piece in run.pieces:
        text = _join(text, piece.text, piece.x0 - right >= SPACE_EM * run.em)
        right = max(right, piece.x1)
    return unicodedata.normalize("NFC", text)


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


def _pdf_rules(page: Any, x_off: float, y_off: float, scale: float) -> list[Rule]:
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
    return _merge_rules([((b[0] - x_off) * scale, (b[1] - y_off) * scale, (b[2] - x_off) * scale,
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


def _merge_rules(boxes: Iterable[Box], *, min_length: float, gap: float = 1.0, across: float = 0.6) -> list[Rule]:
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
    return sorted(rounded, key=lambda r: (not r.horizontal, r.top, r.x0))


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


# -- OCR: the picture ------------------------------------------------------------------------------


def _square_gray(image: Image.Image) -> tuple[Image.Image, float]:
    """The picture in mode "L" with square pixels, and its resolution (200 dpi when it says none)."""
    dpi = image.info.get("dpi")
    try:
        xdpi, ydpi = (float(dpi[0]), float(dpi[1])) if dpi else (float(RENDER_DPI), float(RENDER_DPI))
    except (TypeError, ValueError, IndexError):
        xdpi = ydpi = float(RENDER_DPI)
    if not (20 <= xdpi <= 2400 and 20 <= ydpi <= 2400):
        xdpi = ydpi = float(RENDER_DPI)
    gray = image if image.mode == "L" else image.convert("L")
    if abs(xdpi / ydpi - 1) < 0.05:
        return gray, xdpi
    resolution = max(xdpi, ydpi)
    size = (round(gray.width * resolution / xdpi), round(gray.height * resolution / ydpi))
    return gray.resize(size, Image.Resampling.NEAREST), resolution  # a fax line repeated, as sent


def _ink(gray: Gray) -> Mask:
    """Dark pixels: Otsu's threshold, kept within reason for an almost blank page."""
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return gray < min(max(float(level), 100.0), 200.0)


def _components(ink: Mask) -> tuple[int, Labels, Labels]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    return int(count), np.asarray(labels, dtype=np.int32), np.asarray(stats, dtype=np.int32)


def _despeckle(ink: Mask, dpi: float) -> tuple[Mask, Labels]:
    """The ink without fax dust, and its components' stats as they were."""
    count, labels, stats = _components(ink)
    px_per_mm = dpi / MM_PER_INCH
    area = stats[:, cv2.CC_STAT_AREA]
    small = area <= max(2, round((0.45 * px_per_mm) ** 2))
    small[0] = False
    if not small.any():
        return ink, stats
    speck = small[labels]
    radius = max(1, round(0.8 * px_per_mm))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = cv2.dilate((ink & ~speck).view(np.uint8), kernel).view(np.bool_)
    keep = np.zeros(count, dtype=np.bool_)
    keep[np.unique(labels[speck & near])] = True  # near other ink: a full stop, a comma, a dakuten
    remove = small & ~keep | (area <= max(1, round((0.15 * px_per_mm) ** 2)))
    remove[0] = False
    return ink & ~remove[labels], stats


def _skew(stats: Labels, dpi: float) -> tuple[bool, float]:
    """Whether the text runs down the page (it came sideways), and its skew (degrees, counter-clockwise).

    A projection profile of the middles of the character-sized blobs: the angle at which the sum of the
    squared counts per fifth of a millimetre across (or down) the page is greatest, i.e. the lines of
    text are sharpest. The middles, not every pixel of ink: a page of a few short lines has a profile
    of its pixels too blunt to tell 0.5° from 1°.

    The sending machine prints its header line straight across the top of the page, however skewed the
    sheet went through: a long sharp line at 0° that can outweigh a sheet of few words. When the page
    without its top ``HEADER_LINE_MM`` is skewed otherwise (by more than 0.3°), that is the sheet's skew.
    """
    px_per_mm = dpi / MM_PER_INCH
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    glyph = (np.maximum(w, h) >= 0.6 * px_per_mm) & (w <= 12 * px_per_mm) & (h <= 12 * px_per_mm)
    glyph[0] = False
    whole = _profile_skew(stats, glyph, px_per_mm)
    in_strip = stats[:, cv2.CC_STAT_TOP] < HEADER_LINE_MM * px_per_mm
    if not (glyph & in_strip).any():
        return whole or (False, 0.0)  # nothing up there: the same blobs would give the same angle
    below = _profile_skew(stats, glyph & ~in_strip, px_per_mm)
    if whole is None or below is None:
        return whole or below or (False, 0.0)
    return below if below[0] != whole[0] or abs(below[1] - whole[1]) > 0.3 else whole


def _profile_skew(stats: Labels, glyph: npt.NDArray[np.bool_], px_per_mm: float) -> tuple[bool, float] | None:
    if glyph.sum() < 10:
        return None
    w, h = stats[glyph, cv2.CC_STAT_WIDTH], stats[glyph, cv2.CC_STAT_HEIGHT]
    xs = (stats[glyph, cv2.CC_STAT_LEFT] + w / 2).astype(np.float64)
    ys = (stats[glyph, cv2.CC_STAT_TOP] + h / 2).astype(np.float64)
    band = 0.2 * px_per_mm

    def sharpness(degrees: float, sideways: bool) -> float:
        a = math.radians(degrees)
        v = xs * math.cos(a) - ys * math.sin(a) if sideways else xs * math.sin(a) + ys * math.cos(a)
        counts = np.bincount(((v - v.min()) / band).astype(np.int64))
        return float(np.dot(counts, counts))

    best: dict[bool, tuple[float, float]] = {}
    for sideways in (False, True):
        angle = 0.0
        for lo, hi, by in ((-MAX_SKEW, MAX_SKEW, 0.25), (-0.3, 0.3, 0.05), (-0.05, 0.05, 0.01)):
            grid = np.arange(angle + lo, angle + hi + 1e-9, by)
            angle = float(max(grid, key=lambda d: sharpness(float(d), sideways)))
        best[sideways] = (angle, sharpness(angle, sideways))
    sideways = best[True][1] > SIDEWAYS * best[False][1]
    return sideways, round(best[sideways][0], 2) + 0.0  # + 0.0: no -0.0


def _rotate(array: Gray, degrees: float, fill: int) -> Gray:
    """The picture turned counter-clockwise by a small angle about its centre, its size kept."""
    if abs(degrees) < 0.01:
        return array
    h, w = array.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(array, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=fill)
    return np.asarray(turned, dtype=np.uint8)


def _scan_rules(ink: Mask, dpi: float) -> tuple[Mask, list[Rule]]:
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
        count, _, stats = _components(opened)
        for x, y, w, h, _area in stats[1:count]:
            if (w if horizontal else h) >= length:
                boxes.append((x / px_per_mm, y / px_per_mm, (x + w) / px_per_mm, (y + h) / px_per_mm))
    dashed_ink, dashed = _dashed_rules(src, px_per_mm)
    found |= dashed_ink & ink
    boxes += dashed
    rules = _merge_rules(boxes, min_length=min(H_RULE_MM, V_RULE_MM), gap=2.0, across=1.0)
    rules, bridged = _bridge_broken(rules, ink, px_per_mm)
    found |= bridged
    sides, side_ink = _cell_sides(ink & ~found, px_per_mm, [r for r in rules if r.horizontal])
    found |= cv2.dilate(side_ink.view(np.uint8), np.ones((3, 3), np.uint8)).view(np.bool_) & ink
    rules += sides
    return found, _ruled(sorted(rules, key=lambda r: (not r.horizontal, r.top, r.x0)))


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
    count, labels, stats = _components(opened)
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
    count, labels, stats = _components(opened)
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


def _segments(ink: Mask, dpi: float, rules: Sequence[Rule]) -> tuple[Labels, list[_Run]]:
    """The words of a scan before they are read: runs of connected components, as of a text layer's characters.

    A component's character height is its larger side / 0.9 (kana and kanji fill about 0.9 of their
    square). A run inside another's box (the lower stroke of 二 before 本), a short one beside a run
    and within its height (the strokes of ﾐ, stacked, each a run until ﾄ comes, too tall to join them), or
    the other half of a character alone (``_stacked``) goes with it; what is left smaller than
    ``MIN_WORD_MM`` is dust.
    """
    px_per_mm = dpi / MM_PER_INCH
    count, labels, stats = _components(ink)
    largest = MAX_GLYPH_MM * px_per_mm
    pieces = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        if max(w, h) <= largest:
            pieces.append(_Piece("", x, y, x + w, y + h, max(w, h) / 0.9, label))
    verticals = [((r.x0 + r.x1) / 2 * px_per_mm, r.top * px_per_mm, r.bottom * px_per_mm)
                 for r in rules if not r.horizontal]
    runs = sorted(_runs(pieces, verticals, OCR_SPLIT_EM), key=lambda r: (r.x1 - r.x0) * (r.bottom - r.top),
                  reverse=True)
    kept: list[_Run] = []
    for run in runs:
        width, height = run.x1 - run.x0, run.bottom - run.top
        for other in kept:
            across = min(other.x1, run.x1) - max(other.x0, run.x0)
            down = min(other.bottom, run.bottom) - max(other.top, run.top)
            inside = across >= 0.7 * width and other.bottom - other.top >= height
            beside = (-across <= OCR_SPLIT_EM * other.em and height <= 0.6 * (other.bottom - other.top)
                      and width >= 0.3 * other.em)  # not a speck, nor what is left of a rule
            if down >= 0.7 * height and (inside or beside) or _stacked(run, other):
                other.take(run.pieces)
                break
        else:
            if max(width, height) >= MIN_WORD_MM * px_per_mm:
                kept.append(run)
    for run in kept:
        run.pieces.sort(key=lambda p: p.x0)
    return labels, kept


def _stacked(run: _Run, other: _Run) -> bool:
    """Whether two runs are the top and the bottom of one character standing alone (⺮ over 相 in 箱, 代 over
    衣 in 袋): one just above the other, about as wide, neither a sliver, and together about square and no
    taller than a character (10kg over 16kg in a column written large and tight is as wide as it is tall)."""
    width, other_width = run.x1 - run.x0, other.x1 - other.x0
    across = min(other.x1, run.x1) - max(other.x0, run.x0)
    height = max(run.bottom, other.bottom) - min(run.top, other.top)
    gap = max(run.top, other.top) - min(run.bottom, other.bottom)
    return (across >= 0.7 * max(width, other_width) and abs(gap) <= 0.15 * height
            and min(run.bottom - run.top, other.bottom - other.top) >= 0.2 * height
            and 0.8 <= height / (max(run.x1, other.x1) - min(run.x0, other.x0)) <= 1.25
            and height <= 1.5 * max(run.em, other.em))


def _crop(labels: Labels, run: _Run) -> Mask:
    """The run's own ink (none of its neighbours'), with a margin, as Tesseract likes a line."""
    x0, top, x1, bottom = int(run.x0), int(run.top), int(run.x1), int(run.bottom)
    pad = max(4, round(0.3 * (bottom - top)))
    canvas = np.zeros((bottom - top + 2 * pad, x1 - x0 + 2 * pad), dtype=np.bool_)
    canvas[pad:pad + bottom - top, pad:pad + x1 - x0] = np.isin(labels[top:bottom, x0:x1],
                                                                [p.label for p in run.pieces])
    return canvas


# -- OCR: reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """Tesseract's reading of one cut-out word: its words' (text, left, right, conf), left to right."""

    words: tuple[tuple[str, int, int, float], ...]

    def text(self, em: float) -> str:
        text = ""
        right = -math.inf
        for word, left, end, _ in self.words:
            text = _join(text, word, left - right >= OCR_SPACE_EM * em, ocr=True)
            right = max(right, end)
        return _voiced(text)

    @property
    def conf(self) -> float:
        return min((w[3] for w in self.words), default=0.0)


def _token_ends(text: str, line: _Line) -> tuple[tuple[int, float], ...]:
    """Where each token of ``line`` ends in its tidied ``text``, with its confidence; none when some token is
    not found as it was read (tidying changed it) or there is only one."""
    ends: list[tuple[int, float]] = []
    at = 0
    for token, _, _, conf in line.words:
        token = unicodedata.normalize("NFC", token)
        found = text.find(token, at)
        if found < 0:
            return ()
        at = found + len(token)
        ends.append((at, round(conf, 3)))
    return tuple(ends) if len(ends) > 1 else ()


# A half-width kana's voicing mark read on its own (ﾌﾞ read フ~, ﾊﾟ ハ°): joined to its kana when they make one.
_KANA = "[\u3041-\u3096\u30a1-\u30fc]"  # hiragana and katakana, with ー
_VOICING = re.compile(rf"(?<={_KANA})\s?([~”“\"゛゙]|[°º゜゚])")


def _voiced(text: str) -> str:
    """NFC, with a dakuten or handakuten read as a mark of its own put on its kana (ハ°ック: パック)."""
    text = unicodedata.normalize("NFC", text)
    if not _VOICING.search(text):
        return text
    marked = _VOICING.sub(lambda m: "\u3099" if m[1] in "~”“\"゛゙" else "\u309a", text)
    return unicodedata.normalize("NFC", marked).replace("\u3099", "").replace("\u309a", "")


_DUST = "'`\"°·_~^"


def _tidy(text: str) -> str:
    """A reading without the dust at its ends that Tesseract reads as punctuation.

    A quote mark, a degree sign, a middle dot or a stroke before or after a word; a full stop or a
    comma before one, or after Japanese or a digit (an amount never ends with a separator, Japanese
    ends with 。 and 、, not . and ,). "No." keeps its full stop.
    """
    text = text.strip()
    while text and (text[0] in _DUST or text[0] in ".,"):
        text = text[1:].lstrip()
    while len(text) > 1 and (text[-1] in _DUST or text[-1] in ".," and (_is_cjk(text[-2]) or text[-2].isdigit()
                                                                       or text[-2] == " ")):
        text = text[:-1].rstrip()
    return text


def _quality(lines: Iterable[_Line]) -> float:
    """Mean confidence per character read (0..1)."""
    chars = total = 0.0
    for line in lines:
        for word, _, _, conf in line.words:
            chars += len(word)
            total += conf * len(word)
    return total / chars if chars else 0.0


def _tesseract(crops: Sequence[Mask] | Sequence[Gray], dpi: float, command: str, *,
               languages: str = LANGUAGES) -> list[_Line]:
    """Each crop (ink True, or gray with dark ink) read as one line: the pages of one TIFF, one process, one
    thread (``OMP_THREAD_LIMIT=1``)."""
    if not crops:
        return []
    exe = shutil.which(command)
    if exe is None:
        raise UnreadablePage(f"OCR failed: {command} is not installed")
    bits = crops[0].dtype == np.bool_
    images = [Image.fromarray(~crop if bits else crop) for crop in crops]
    tiff = io.BytesIO()
    images[0].save(tiff, "TIFF", save_all=True, append_images=images[1:],
                   compression="group4" if bits else "tiff_lzw", dpi=(round(dpi), round(dpi)))
    args = [exe, "stdin", "stdout", "-l", languages, "--psm", str(PSM), "--dpi", str(round(dpi)),
            "-c", "tessedit_do_invert=0", "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # its default threads make it 4× slower on 2 cores
    try:
        proc = subprocess.run(args, input=tiff.getvalue(), capture_output=True, timeout=OCR_TIMEOUT, env=env,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise UnreadablePage("OCR failed: timeout") from exc
    except OSError as exc:
        raise UnreadablePage(f"OCR failed: {command} could not be started: {exc}") from exc
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()] or [""]
        raise UnreadablePage(f"OCR failed: {command} exited with {proc.returncode}: {tail[-1].strip()}")
    words: list[list[tuple[str, int, int, float]]] = [[] for _ in crops]
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) != 12 or cols[0] != "5" or not cols[11].strip():
            continue
        try:
            page, left, width, conf = int(cols[1]) - 1, int(cols[6]), int(cols[8]), float(cols[10])
        except ValueError:
            continue
        if conf >= 0 and 0 <= page < len(crops):
            words[page].append((cols[11].strip(), left, left + width, conf / 100))
    return [_Line(tuple(sorted(w, key=lambda item: item[1]))) for w in words]


def _upside_down(runs: Sequence[_Run], crops: Sequence[Mask], dpi: float, command: str, number: int) -> bool:
    """Whether the page reads better turned: its longest words (lines of text), read both ways up."""
    sample = sorted(range(len(runs)), key=lambda i: runs[i].x1 - runs[i].x0, reverse=True)[:ORIENTATION_SAMPLE]
    if not sample:
        return False
    # a dozen characters of each tell as well as a whole line, and nonsense is slow to read
    probes = [crops[i][:, :crops[i].shape[0] * 12] for i in sample]
    read = _tesseract(probes + [probe[::-1, ::-1] for probe in probes], dpi, command)
    upright, turned = _quality(read[:len(sample)]), _quality(read[len(sample):])
    log.debug("page %d: its longest words read at %.2f as they are, %.2f turned", number, upright, turned)
    # turned only when turned reads like text: a page neither way up reads well (English, a photo) stays
    return turned >= 0.6 and turned > upright + 0.15


def _reread_latin(crops: Sequence[Mask], lines: list[_Line], dpi: float, command: str) -> None:
    """Words read without Japanese (amounts, phone numbers, units), or as one character (a quantity in
    its cell, 2 read as る), read again in English, and kept if surer.

    The Japanese model reads most thousands commas as full stops ("3.200"); the English one does not.
    Reading every word with both (``jpn+eng``) would double Tesseract's time.
    """
    picked = [i for i, line in enumerate(lines)
              if line.words and (not any(_is_cjk(ch) for ch in line.text(1.0)) or len(line.text(1.0)) == 1)]
    for i, line in zip(picked, _tesseract([crops[i] for i in picked], dpi, command, languages="eng"), strict=True):
        if not line.words or _quality([line]) <= _quality([lines[i]]):
            continue
        japanese = lines[i].text(1.0)
        if any(_is_cjk(ch) for ch in japanese) and not _NUMBER.fullmatch(line.text(1.0)):
            continue  # a kanji or kana alone (箱, 玉) stays Japanese unless English reads a number there
        if len(japanese) == 1 and _is_cjk(japanese) and not _is_kana(japanese) and japanese not in "一二三":
            continue  # English reads a number into anything (袋 as 8, ℓ as 2); Japanese reads digits as kana
        lines[i] = line


# a Latin letter or a stroke between two kana: what the model makes of a half-width katakana (ﾐﾆﾄﾏﾄ read ミニトYト)
_INSIDE_KANA = re.compile(rf"(?<={_KANA})\s?[A-Za-z\\/|\[\]{{}}^_]+\s?(?={_KANA})")


def _plausible(line: _Line) -> tuple[bool, float]:
    """How to rank readings of one word: a reading with no Latin or stroke inside kana first, then the surer."""
    return not _INSIDE_KANA.search(line.text(1.0)), _quality([line])


def _half_width(run: _Run, text: str) -> bool:
    """Kana drawn narrower than three quarters of their height: half-width katakana (ﾐﾆﾄﾏﾄ read ミニトャマト)."""
    return any(_is_kana(ch) for ch in text) and (run.x1 - run.x0) / run.em / len(text) < 0.75


def _gray_crop(gray: Gray, labels: Labels, run: _Run) -> Gray:
    """``_crop`` in gray: the run's own ink with its soft edges as the deskewed picture has them, the rest white."""
    x0, top, x1, bottom = int(run.x0), int(run.top), int(run.x1), int(run.bottom)
    pad = max(4, round(0.3 * (bottom - top)))
    own = cv2.dilate(np.isin(labels[top:bottom, x0:x1], [p.label for p in run.pieces]).view(np.uint8),
                     np.ones((3, 3), np.uint8)).view(np.bool_)
    canvas = np.full((bottom - top + 2 * pad, x1 - x0 + 2 * pad), 255, dtype=np.uint8)
    canvas[pad:pad + bottom - top, pad:pad + x1 - x0] = np.where(own, gray[top:bottom, x0:x1], 255)
    return canvas


def _reread_enlarged(grays: Sequence[Gray], runs: Sequence[_Run], lines: list[_Line], dpi: float,
                     command: str) -> dict[int, list[_Line]]:
    """Japanese words read unsure (mean confidence under ``UNSURE_QUALITY``), and words of kana as narrow as
    half-width katakana however sure, read again from their gray crops (``_gray_crop``, upright): enlarged
    ``ENLARGE`` times as cut out, and with a wider white margin, and (words with kana) ``HALF_STRETCH`` times
    as wide, not taller (of the ways tried, the one that read most half-width katakana right). The surest
    reading replaces the first when surer; every other reading is returned, by word, for a reader that knows
    what the word may say.

    At fax resolution a kanji is 20-30 pixels high and its inner strokes touch: 生姜 is read 生半, 豆腐 豆殴,
    ﾌﾞﾛｯｺﾘ フーロッコリ. Enlarged they are often read right, but which of the ways gets it right, and how
    sure Tesseract is of it, is nearly chance (生姜 read right at 0.41, wrong as 生 0.93 半 0.54): the
    confidences alone cannot pick, a product master can.
    """
    picked = [i for i, line in enumerate(lines)
              if (text := line.text(1.0)) and any(_is_cjk(ch) for ch in text)
              and (_quality([line]) < UNSURE_QUALITY or _half_width(runs[i], text))]
    others: dict[int, list[_Line]] = {i: [] for i in picked}
    for wide, high, margin in ((ENLARGE, ENLARGE, 0), (ENLARGE, ENLARGE, ENLARGE_MARGIN), (HALF_STRETCH, 1, 0)):
        chosen = [i for i in picked if wide == high or any(_is_kana(ch) for ch in lines[i].text(1.0))]
        scaled = [cv2.resize(np.pad(grays[i], margin, constant_values=255),
                             (round((grays[i].shape[1] + 2 * margin) * wide), (grays[i].shape[0] + 2 * margin) * high),
                             interpolation=cv2.INTER_LANCZOS4).astype(np.uint8) for i in chosen]
        for i, line in zip(chosen, _tesseract(scaled, dpi * high, command), strict=True):
            if line.words:
                others[i].append(_Line(tuple((text, int(left / wide) - margin, int(right / wide) - margin, conf)
                                             for text, left, right, conf in line.words)))
    for i, readings in others.items():
        best = max(readings, key=_plausible, default=None)
        if best is not None and _plausible(best) > _plausible(lines[i]):
            readings[readings.index(best)] = lines[i]
            lines[i] = best
        else:
            readings.append(lines[i])
    return others


def _japanese(text: str) -> bool:
    """Whether every ideograph is one a Japanese sheet can carry (in Shift_JIS as Windows has it): the second
    reader's model writes some kanji in their simplified Chinese form (単 as 单), which none is."""
    try:
        "".join(ch for ch in text if _is_cjk(ch)).encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


# what two readers write differently for the same mark: ¥ (a backslash to Tesseract), a stop or a colon, a
# small kana (ゅ read ゆ)
_SMALL_KANA = "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
_LARGE_KANA = "あいうえおつやゆよわアイウエオツヤユヨワカケ"
_FOLD = str.maketrans({"\\": "¥", ",": ".", "、": ".", "。": ".", "·": ".", "・": ".", ":": ".", ";": ".",
                       **dict(zip(_SMALL_KANA, _LARGE_KANA, strict=True))})


def _folded(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold().translate(_FOLD)


def _read_again(grays: Sequence[Gray], runs: Sequence[_Run], lines: Sequence[_Line]) -> list[list[tuple[str, float]]]:
    """Every word read by the second reader as cut out; a word of kana as narrow as half-width katakana by
    either reader's reading, read again drawn ``SECOND_STRETCH`` times as wide (ﾚﾓﾝ: Vt\\ as it is, レモン twice
    as wide). Readings by word, as read."""
    readings = [[reading] for reading in read_words(grays)]
    narrow = [i for i, (run, line) in enumerate(zip(runs, lines, strict=True))
              if any(_half_width(run, text) for text in (line.text(1.0), readings[i][0][0]))]
    for wide in SECOND_STRETCH:
        stretched = [cv2.resize(grays[i], (round(grays[i].shape[1] * wide), grays[i].shape[0]),
                                interpolation=cv2.INTER_LANCZOS4).astype(np.uint8) for i in narrow]
        for i, reading in zip(narrow, read_words(stretched), strict=True):
            readings[i].append(reading)
    return readings


def _weigh(first: _Read, seconds: Sequence[tuple[str, float]]) -> _Read:
    """Tesseract's reading of a word and the second reader's (``parsers.recognizer``), made one.

    Alike (NFKC, without spaces, in either case, a stop for a colon, ¥ for a backslash): Tesseract's text
    (its spaces are the layout's), as sure as the surer of the two; readers of two families rarely read the
    same ink the same wrong way. Unlike: the surer, among readings a Japanese sheet can carry with no Latin
    inside kana, is the text; it is as sure as it was read, less the other's confidence as far as the other
    differs (8 read at 1.00 where Tesseract read る at 0.94: 0.06, a field to check; 2.5 where Tesseract read
    2.5- at 0.6: 0.81). The other reading becomes an alternative. Where in the word the two agree, they
    agree (2束 against 2東: the 2 is as sure as the surer reader, the 束 is not), as ``token_confs`` say.
    """
    text, conf, alternatives, token_ends = first
    readings = [(_in_japanese(_tidy(_voiced(reading)), text), sure) for reading, sure in seconds]
    readings = [(reading, sure) for reading, sure in readings if reading]
    if not readings:
        return first
    other, other_conf = max(readings, key=lambda reading: _rank(*reading))
    alternatives = tuple(sorted({*alternatives, *(reading for reading, _ in readings)} - {text, other}))
    distance = Levenshtein.normalized_distance(_folded(text), _folded(other))
    if distance == 0:
        return (text, max(conf, other_conf), alternatives,
                tuple((end, max(token_conf, other_conf)) for end, token_conf in token_ends))
    own_ends: tuple[tuple[int, float], ...] = ()  # where the second reader's tokens end is not known
    if not text or _rank(other, other_conf) > _rank(text, conf):
        won, won_conf, lost, lost_conf = other, other_conf, text, conf
    else:
        won, won_conf, lost, lost_conf, own_ends = text, conf, other, other_conf, token_ends
    kept = 1 - lost_conf * distance
    confs = [max(own, lost_conf) if alike else own * kept
             for own, alike in zip(_char_confs(won, won_conf, own_ends), _read_alike(won, lost), strict=True)]
    ends = [(end, round(confs[end - 1], 3)) for end in range(1, len(won) + 1)
            if end == len(won) or confs[end] != confs[end - 1]]
    return (won, won_conf * kept, tuple(sorted({*alternatives, text, other} - {won, ""})),
            tuple(ends) if len(ends) > 1 else ())


def _char_confs(text: str, conf: float, token_ends: Sequence[tuple[int, float]]) -> list[float]:
    """Each character's confidence: its token's, or the word's."""
    if not token_ends:
        return [conf] * len(text)
    return [next((token_conf for end, token_conf in token_ends if end > i), conf) for i in range(len(text))]


def _read_alike(text: str, other: str) -> list[bool]:
    """Whether each character of ``text`` is read alike (``_folded``) in ``other``, in its place; a
    character beside one that ``other`` has more is not (1 against 18: the 1 may be the start of 18)."""
    mine = [(i, folded) for i, ch in enumerate(text) if (folded := _folded(ch))]
    theirs = [folded for ch in other if (folded := _folded(ch))]
    alike = [True] * len(text)  # a space is the layout's, not a reading
    for op in Levenshtein.opcodes([folded for _, folded in mine], theirs):
        if op.tag == "equal":
            continue
        unlike = (op.src_start - 1, op.src_start) if op.tag == "insert" else range(op.src_start, op.src_end)
        for k in unlike:
            if 0 <= k < len(mine):
                alike[mine[k][0]] = False
    return alike


def _in_japanese(reading: str, japanese: str) -> str:
    """The second reader's ``reading`` with each kanji in its simplified Chinese form (单) written as Tesseract
    read it in the same place (単), when the two are as long."""
    if _japanese(reading) or len(reading) != len(japanese):
        return reading
    return "".join(theirs if _is_cjk(ours) and not _japanese(ours) else ours
                   for ours, theirs in zip(reading, japanese, strict=True))


def _rank(reading: str, sure: float) -> tuple[bool, bool, float]:
    """How to rank readings of one word from two readers: one a Japanese sheet can carry, with no Latin inside
    kana, first; then the surer."""
    return _japanese(unicodedata.normalize("NFKC", reading)), not _INSIDE_KANA.search(reading), sure


def _ocr_page(image: Image.Image, number: int, command: str) -> PageText:
    started = time.perf_counter()
    picture, dpi = _square_gray(image)
    gray: Gray = np.asarray(picture, dtype=np.uint8)
    ink, stats = _despeckle(_ink(gray), dpi)
    quarter = 0
    sideways, skew = _skew(stats, dpi)
    if sideways:  # turned a quarter clockwise to be read; which way up is told below, as for 0° and 180°
        quarter = 270
        gray, ink = np.ascontiguousarray(np.rot90(gray, -1)), np.ascontiguousarray(np.rot90(ink, -1))
        _, skew = _skew(_components(ink)[2], dpi)
    gray = _rotate(gray, -skew, 255)
    ink = _rotate(ink.view(np.uint8) * 255, -skew, 0) > 127
    rule_ink, rules = _scan_rules(ink, dpi)
    labels, runs = _segments(ink & ~rule_ink, dpi, rules)
    crops = [_crop(labels, run) for run in runs]
    turned = _upside_down(runs, crops, dpi, command, number)
    if turned:
        crops = [np.ascontiguousarray(crop[::-1, ::-1]) for crop in crops]
    lines = _tesseract(crops, dpi, command)
    _reread_latin(crops, lines, dpi, command)
    grays = [_gray_crop(gray, labels, run) for run in runs]  # each word's, once: both re-readings use them
    if turned:
        grays = [np.ascontiguousarray(crop[::-1, ::-1]) for crop in grays]
    others = _reread_enlarged(grays, runs, lines, dpi, command)
    second = _read_again(grays, runs, lines)

    height_px, width_px = gray.shape
    scale = MM_PER_INCH / dpi
    read: list[_Run] = []
    texts: list[_Read] = []
    for i, (run, line) in enumerate(zip(runs, lines, strict=True)):
        text = _tidy(line.text(run.em))
        alternatives = tuple(sorted({_tidy(other.text(run.em)) for other in others.get(i, ())} - {text, ""}))
        reading = _weigh((text, line.conf, alternatives, _token_ends(text, line)), second[i])
        text, conf = reading[0], reading[1]
        if len(run.pieces) == 1 and max(run.x1 - run.x0, run.bottom - run.top) < BLOT_MM / scale and conf < 0.5:
            log.debug("page %d: %r, a blot, dropped", number, text)
            continue  # a toner spot read as a character: nothing this small and doubtful is a character
        if text.strip():
            if turned:
                run = _Run(run.pieces, width_px - run.x1, height_px - run.bottom, width_px - run.x0,
                           height_px - run.top, run.em)
            read.append(run)
            texts.append(reading)
    if turned:
        gray = np.ascontiguousarray(gray[::-1, ::-1])
        w_mm, h_mm = width_px * scale, height_px * scale
        rules = _merge_rules([(w_mm - r.x1, h_mm - r.bottom, w_mm - r.x0, h_mm - r.top) for r in rules],
                             min_length=0.0)
    upright = Image.fromarray(gray)
    upright.info["dpi"] = (dpi, dpi)
    return PageText(number=number, width_mm=round(width_px * scale, 2), height_mm=round(height_px * scale, 2),
                    words=_words(read, texts, scale), rules=tuple(rules), source="ocr", image=upright, dpi=dpi,
                    rotation=(quarter + (180 if turned else 0)) % 360, skew=skew,
                    ms=(time.perf_counter() - started) * 1000)
