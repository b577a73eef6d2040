"""read_form: the box ticked on a returned fax-back form, what is written in its fields, and its reference.

Every fax-back form of ours is a ``FormGeometry`` in millimetres from the top-left
corner of the page; the template that prints the page draws exactly that, and this
module reads it back. The invitation letter's form (``read_faxback``, answers as
``Intent``) and the order sheet's (``parsers.orderform``) are two such geometries:

    registration marks ■ at the form's four corners
    two or more boxes, each named by its answer  □ 済 承認   □ 非 非承認   □ 未 保留
    an optional contact field (自社の担当者) for a handwritten name
    named fields (``FormField``): handwritten text, digits (a quantity: 3, 2.5) or a
        date (11/25, 11月25日), each cropped and read by OCR with settings for its kind
    a QR code holding the reference (``TORII-INV-123-AB12``), printed below it in clear

Reading a page, in order:

1. QR code (zxing-cpp): gives the reference and where the form is, whichever way up.
2. Registration marks: four solid squares forming the expected rectangle; they give a
   precise homography (skew, scale, even a different scale in x and y). Without a
   readable QR code the marks alone locate the form (three of them if one is lost):
   the rectangle leaves two ways up, and the one where the printed box outlines are
   found wins, by a clear margin, or the page goes to review.
3. Straight lines the fax adds (a garbled scan line across, dirt on the glass down
   the page) are erased unless they lie on the form's own print.
4. The form is rectified to 8 px/mm; each box's outline is found within ±1.2 mm of
   where it should be and the ink *inside* it is measured (outline excluded, specks
   removed, the page's background speckle subtracted): ``box_scores``. A circle drawn
   around a box (or around box and label) leaves the box empty, so the ink in a ring
   around it is measured too, as the share of directions around it that a line
   covers (what is nearer to another box is that box's): ``ring_scores``.
5. Decision, never a guess (see ``_Reader._decide``): exactly one box clearly marked
   and no other box with more than a trace of ink gives that answer; none, two or
   three, or one with a doubtful second, gives ``answer=None`` and the reason.
6. Without a QR code, the reference is read from its clear-text print by OCR
   (Tesseract eng, a few passes) and accepted only if ``reference_check`` accepts it,
   as read or with one or two OCR confusions undone (O/0, I/1/T, J/3, 8/B...), and
   only if all that pass spell one reference; without a check, a reading shaped like
   a reference is kept, unchecked, with a confidence below the review bar.
7. The contact field is cropped (``contact_image``, PNG) and read by Tesseract
   (``contact_text``): Japanese, then English if no Japanese came out.
8. Each field is cropped (``FieldReading.image``, PNG) inside its outline; the ink
   left once the outline, stray lines and specks are gone is the writing, cut into
   glyphs (a dot is a decimal point only on the baseline; a solid spot is toner).
   Digits and dates are laid out again evenly (Tesseract reads a lone or widely
   spaced handwritten digit badly) and read with a whitelist, pass after pass
   (``psm`` 7, 6, 13), until a reading is borne out by the glyphs: one character per
   glyph, the decimal point where the dot is, each digit with its closed loops (a 3
   has none, an 8 two) and the digit its glyph looks most like among digits drawn in
   other fonts. Only such a reading is kept (``FieldReading.text``); else ``None``
   with the reason. Never a guess: a person reads what the machine could not.

Tesseract runs as a subprocess with ``OMP_THREAD_LIMIT=1`` (``TesseractOcr``); any
``Ocr`` can be passed instead.

Conventions: ``rotation`` and ``skew_deg`` are counter-clockwise degrees, as in
``PIL.Image.rotate``: the page arrived turned by ``rotation + skew_deg`` and
``image.rotate(-(rotation + skew_deg))`` sets it upright. ``rotation`` is one of
0, 90, 180, 270; ``skew_deg`` is within ±45.

``read_form`` and ``read_faxback`` never raise on any image: what they cannot read is ``None`` with a reason.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import math
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image

from parsers.errors import ParserError
from parsers.intent import Intent

__all__ = [
    "Rect",
    "AnswerBox",
    "FieldKind",
    "FormField",
    "FormGeometry",
    "FAXBACK_FORM",
    "ReferenceCheck",
    "ReferenceSource",
    "FieldReading",
    "FormReading",
    "FaxbackReading",
    "Ocr",
    "OcrError",
    "TesseractOcr",
    "find_reference",
    "read_form",
    "read_faxback",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class Rect:
    """A rectangle in millimetres from the page's top-left corner (x to the right, y down)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def expanded(self, dx: float, dy: float | None = None) -> Rect:
        """Grown by ``dx`` on the left and right and ``dy`` (default ``dx``) on top and bottom."""
        dy = dx if dy is None else dy
        return Rect(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def union(self, other: Rect) -> Rect:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def overlaps(self, other: Rect) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class AnswerBox:
    """One square box the partner ticks, and its printed label right of it.

    ``answer`` names what ticking it means ("approve", "confirm", ...): the reading's
    ``answer`` is that name.
    """

    answer: str
    box: Rect  # the printed outline's outer edge
    label: Rect  # where the label text is printed
    label_text: str  # e.g. "済 承認"


FieldKind = Literal["text", "digits", "date"]


@dataclass(frozen=True)
class FormField:
    """A field the partner writes in, outlined ``box_line`` thick with its outer edge on ``rect``.

    ``kind`` says how it is read: "text" (Japanese, else English), "digits" (a
    quantity: digits and a decimal point, e.g. 3, 12, 2.5) or "date" (month and day:
    11/25, 11月25日, 2026/11/25). ``label`` is where its printed label is, if near.
    """

    name: str
    rect: Rect
    kind: FieldKind = "text"
    label: Rect | None = None


@dataclass(frozen=True)
class FormGeometry:
    """Where everything of the fax-back form is on the page, in millimetres.

    The letter template draws the form from this object and ``read_faxback`` reads it
    with the same object. Everything read must stay clear of other print:

    - marks: solid black squares of ``mark_size`` centred on ``marks``
      (top-left, top-right, bottom-right, bottom-left);
    - boxes: outline ``box_line`` thick, outer edge on ``box``; nothing printed within
      12 mm left/right and 6 mm above/below a box and its label but the label itself
      (hand-drawn circles around a box are read there); a form of fields only has none;
    - qr: the symbol's dark modules exactly fill ``qr`` (no quiet zone inside it);
      keep ``qr_quiet_zone`` mm around it blank;
    - reference_text: the reference in clear, in capitals, digits and "-";
    - contact: the field for the handwritten name, outline ``box_line`` thick
      (its label ``contact_label`` left of it); a form may have none;
    - fields: more fields to write in (``FormField``), outline ``box_line`` thick;
    - heading: free text above the boxes (instructions);
    - other_print: where else the form prints something (a table, its text): kept out
      of the background's estimate, and straight lines there are the form's own.
    """

    page_size: tuple[float, float]  # width, height
    marks: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
    mark_size: float
    boxes: tuple[AnswerBox, ...]
    qr: Rect
    reference_text: Rect
    heading: Rect
    contact: Rect | None = None
    contact_label: Rect | None = None
    fields: tuple[FormField, ...] = ()
    other_print: tuple[Rect, ...] = ()
    box_line: float = 0.4
    qr_quiet_zone: float = 4.0

    def __post_init__(self) -> None:
        answers = [b.answer for b in self.boxes]
        # no boxes: a form of fields only (an order form); one box alone would answer nothing
        if len(answers) == 1 or len(set(answers)) != len(answers) or not all(isinstance(a, str) and a
                                                                             for a in answers):
            raise ValueError("a FormGeometry needs no boxes, or two or more, each with its own answer name")
        if not self.boxes and not self.fields:
            raise ValueError("a FormGeometry needs boxes or fields: its printed outlines locate it")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names) or "contact" in names:
            raise ValueError("field names must be unique (and not 'contact')")
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.marks
        if not (x0 < x1 and y1 < y2 and x2 > x3 and y3 > y0):
            raise ValueError("marks must be given top-left, top-right, bottom-right, bottom-left")
        width, height = self.page_size
        for rect in self.printed_rects():
            if rect.x < 0 or rect.y < 0 or rect.right > width or rect.bottom > height:
                raise ValueError(f"{rect} lies outside the page")

    def box_for(self, answer: str | Enum) -> AnswerBox:
        """The box for ``answer`` (its name, or an Enum whose value is the name)."""
        name = answer.value if isinstance(answer, Enum) else answer
        return next(b for b in self.boxes if b.answer == name)

    def field_for(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)

    @property
    def outlined(self) -> tuple[Rect, ...]:
        """The printed outlines that show where the form is: the boxes, the contact field, the fields."""
        rects = [b.box for b in self.boxes] + [f.rect for f in self.fields]
        return tuple(rects + ([self.contact] if self.contact is not None else []))

    @property
    def marks_rect(self) -> Rect:
        """The rectangle through the four marks' centres."""
        xs = [p[0] for p in self.marks]
        ys = [p[1] for p in self.marks]
        return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    @property
    def form_rect(self) -> Rect:
        """The whole form, marks included."""
        return self.marks_rect.expanded(self.mark_size / 2 + 2)

    def mark_rect(self, index: int) -> Rect:
        cx, cy = self.marks[index]
        s = self.mark_size
        return Rect(cx - s / 2, cy - s / 2, s, s)

    def printed_rects(self) -> tuple[Rect, ...]:
        """Everything printed on the form, as rectangles."""
        rects = [self.mark_rect(i) for i in range(4)]
        for b in self.boxes:
            rects += [b.box, b.label]
        rects += [r for r in (self.contact, self.contact_label) if r is not None]
        for f in self.fields:
            rects += [f.rect] + ([f.label] if f.label is not None else [])
        rects += [self.qr.expanded(self.qr_quiet_zone), self.reference_text, self.heading, *self.other_print]
        return tuple(rects)


def _faxback_form() -> FormGeometry:
    row_y, size = 212.0, 9.0

    def answer_box(answer: Intent, x: float, text: str) -> AnswerBox:
        return AnswerBox(answer.value, Rect(x, row_y, size, size), Rect(x + size + 2, row_y, 24.0, size), text)

    return FormGeometry(
        page_size=(210.0, 297.0),  # A4 portrait
        marks=((17.5, 197.5), (192.5, 197.5), (192.5, 282.5), (17.5, 282.5)),
        mark_size=5.0,
        boxes=(
            answer_box(Intent.APPROVE, 25.0, "済 承認"),
            answer_box(Intent.REJECT, 75.0, "非 非承認"),
            answer_box(Intent.HOLD, 125.0, "未 保留"),
        ),
        contact=Rect(57.0, 235.0, 88.0, 16.0),
        contact_label=Rect(25.0, 239.0, 30.0, 8.0),
        qr=Rect(160.0, 236.0, 24.0, 24.0),
        reference_text=Rect(148.0, 265.0, 42.0, 6.0),
        heading=Rect(25.0, 199.0, 160.0, 6.0),
    )


# The default form at the bottom of an A4 invitation letter.
FAXBACK_FORM = _faxback_form()


# ---------------------------------------------------------------------------------------------
# Results and OCR


# Is this text (or does it hold) an issued reference? True, or the reference as it should be
# written (then that is what the reading reports); False or None if not.
ReferenceCheck = Callable[[str], "bool | str | None"]


class ReferenceSource(Enum):
    QR = "qr"
    OCR = "ocr"


@dataclass(frozen=True)
class FieldReading:
    """What is written in one field: its crop, whether there is writing, and what OCR read.

    ``text`` is None when nothing is written, when OCR was not asked for or not
    available, and when the reading is not sure (digits and dates: two passes that
    disagree, or a reading that does not match the glyphs written); ``reason`` says
    which. Digits come as written ("2.5", "12"), dates as read ("11/25", "11月25日").
    ``confidence`` is 0.0 without a text. ``outside`` says when writing runs over the
    outline or lies beside it.
    """

    name: str
    kind: FieldKind
    image: bytes  # PNG, 1-bit, the field inside its outline
    written: bool
    text: str | None
    confidence: float
    reason: str | None = None
    # writing that may not all be inside the outline: running over its edge (the crop cut it, a
    # neighbour's field may hold the rest) or beside it on blank paper; it lowers nothing here,
    # the form's reader weighs it
    outside: str | None = None


@dataclass(frozen=True)
class FormReading:
    """What a returned form says, how sure the reading is and why.

    ``answer`` is the name of the one box clearly marked, else None; ``blank`` is true
    when no box shows any ink at all (no answer given, rather than an unclear one).
    ``confidence`` is for the answer and, when there is one, the reference: a
    reference read by OCR without a check caps it below the usual review bar. The
    fields' own confidence is in ``fields``. ``box_scores`` is the ink inside each box
    (share of its inner area, printed outline and background speckle excluded),
    ``ring_scores`` the share of directions around a box (or box and label) covered
    by a drawn line: a circle.
    """

    reference: str | None
    reference_source: ReferenceSource | None
    answer: str | None
    confidence: float
    reasons: tuple[str, ...]
    box_scores: Mapping[str, float] = field(default_factory=dict)
    ring_scores: Mapping[str, float] = field(default_factory=dict)
    contact_image: bytes | None = None  # PNG, 1-bit, the contact field inside its outline
    contact_text: str | None = None
    rotation: int = 0
    skew_deg: float = 0.0
    fields: Mapping[str, FieldReading] = field(default_factory=dict)
    blank: bool = False
    located: bool = False  # the form was found on the page


@dataclass(frozen=True)
class FaxbackReading:
    """The invitation letter's form as read (``read_faxback``): a ``FormReading`` with the answer as an ``Intent``."""

    reference: str | None
    reference_source: ReferenceSource | None
    answer: Intent | None
    confidence: float
    reasons: tuple[str, ...]
    box_scores: Mapping[str, float] = field(default_factory=dict)
    ring_scores: Mapping[str, float] = field(default_factory=dict)
    contact_image: bytes | None = None  # PNG, 1-bit, the contact field inside its outline
    contact_text: str | None = None
    rotation: int = 0
    skew_deg: float = 0.0


class OcrError(ParserError):
    """Raised by an ``Ocr`` that could not run (not installed, timed out, failed); never leaves read_form."""


class Ocr(Protocol):
    """Reads the text of a small image: one line (``psm=7``) or a block (``psm=6``)."""

    def __call__(self, image: Image.Image, *, languages: str, psm: int, whitelist: str | None = None) -> str:
        ...


@dataclass(frozen=True)
class TesseractOcr:
    """The ``tesseract`` command, one process per call, single-threaded (``OMP_THREAD_LIMIT=1``).

    With its default threads Tesseract is 4 times slower on a 2-core machine, and
    worse when several workers run at once.
    """

    command: str = "tesseract"
    timeout: float = 30.0

    def __call__(self, image: Image.Image, *, languages: str, psm: int, whitelist: str | None = None) -> str:
        exe = shutil.which(self.command)
        if exe is None:
            raise OcrError(f"{self.command} is not installed")
        png = io.BytesIO()
        image.save(png, "PNG")
        dpi = round(float(image.info.get("dpi", (300, 300))[0]))
        args = [exe, "stdin", "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi)]
        if whitelist:
            args += ["-c", f"tessedit_char_whitelist={whitelist}"]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            proc = subprocess.run(args, input=png.getvalue(), capture_output=True, timeout=self.timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise OcrError(f"tesseract took more than {self.timeout:.0f} s") from exc
        except OSError as exc:
            raise OcrError(f"tesseract could not be started: {exc}") from exc
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OcrError(f"tesseract failed ({proc.returncode}): {tail[0]}")
        return proc.stdout.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Reading

Mask = npt.NDArray[np.bool_]
Gray = npt.NDArray[np.uint8]
Matrix = npt.NDArray[np.float64]

SCALE = 8.0  # px per mm of the rectified form (203 dpi)
CROP_SCALE = 12.0  # px per mm of the crops given to OCR (305 dpi)
MIN_PAGE_PX = 300

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
OUTLINE_FOUND = 0.6  # share of the printed outlines found where the geometry puts them
STREAK_MM = 20.0  # a straight ink run along the image's rows or columns longer than this is the fax's

REFERENCE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
REFERENCE_SHAPE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")
# OCR confusions tried when the text read fails the check: what was read → what it may have been.
CONFUSABLE: dict[str, tuple[str, ...]] = {
    "0": ("O", "Q", "D", "9"), "O": ("0", "Q", "D", "9"), "Q": ("O", "0"), "D": ("0", "O"),
    "1": ("I", "L", "T", "7"), "I": ("1", "L", "J", "II", ""), "L": ("1", "I"), "T": ("I", "1", "J", "7"),
    "7": ("1", "T"), "J": ("I", "3"), "3": ("J", "8"),
    "H": ("II", "N"), "N": ("H",), "F": ("T", "I", "I-", "E", "P"), "E": ("F",), "P": ("F",),
    "U": ("V", "0"), "V": ("U", "Y"), "Y": ("V",),
    "5": ("S",), "S": ("5", "8"), "8": ("B", "S"), "B": ("8",), "2": ("Z", "-", ""), "Z": ("2",), "6": ("G",),
    "G": ("6",),
}
# OCR passes over the printed reference: scale (px/mm), page segmentation, whitelist or not. Without
# the whitelist a J read as "]" or ")" is not lost.
REFERENCE_PASSES = ((CROP_SCALE, 7, True), (CROP_SCALE, 7, False), (CROP_SCALE * 0.75, 7, True),
                    (CROP_SCALE * 1.25, 13, True))
_SYMBOLS = str.maketrans({"]": "J", ")": "J", "[": "I", "|": "I", "!": "I", "$": "S", "€": "E", "—": "-", "_": "-",
                          "–": "-", "ー": "-", "−": "-"})
# Readings equal up to these confusions are one reading (a lenient check accepts several spellings of one reference).
_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "T": "1", "7": "1", "J": "1", "S": "5",
                       "B": "8", "Z": "2", "G": "6", "-": None})
MAX_CANDIDATES = 3000  # corrections tried per OCR reading

# Fields. The crop starts FIELD_INSET mm inside the outline's inner edge; blobs smaller than
# FIELD_SPECK_PX (at CROP_SCALE) are fax speckle. A glyph smaller than SMALL_GLYPH of the tallest and
# than MIN_GLYPH_MM across is a dot (a decimal point) or a speck; a solid spot up to BLOB_MM is toner.
FIELD_INSET = 0.25
FIELD_SPECK_PX = 10
SMALL_GLYPH = 0.35
MIN_GLYPH_MM = 2.0
STROKE_MM = 1.0  # a piece of a character is this long at least (fax specks: 0.4 mm at most)
BLOB_MM = 2.0
BLOB_FILL = 0.62  # a spot fills its box like a disc (0.79); a digit 2 mm high and more is not a spot
LOOSE_INK_MM2 = 1.2  # that much ink in small pieces, not spots, is writing nobody can make out
OUTSIDE_MM = 6.0  # how far beside a field writing is looked for (above and below: half that)
GLYPH_PX = 36  # digits are laid out again this high for Tesseract
LOOP_MIN_PX = 12  # a closed loop smaller than this (or LOOP_MIN_SHARE of its glyph's box) is a speck of paper
LOOP_MIN_SHARE = 0.02
BIG_LOOP = 0.08  # the loop of a 0 or a 6 takes this share of its box at least (a closed-up 5's: 0.06)
ONE_WIDEST = 0.65  # a 1 is narrower than this share of its height (slanted as it may be) ...
DIGIT_NARROWEST = 0.3  # ... and the other digits are wider than this
ONE_NARROW = 0.5  # narrower than this, a glyph read as 1 needs no likeness: it is a stroke (a 7 is wider)
DIGITS = "0123456789."
DATE_CHARS = "0123456789/月日年"
# (languages, psm, whitelist), tried in turn until a reading is borne out by the glyphs.
DIGIT_PASSES = (("eng", 7, DIGITS), ("eng", 6, DIGITS), ("eng", 13, DIGITS))
DATE_PASSES = (("eng", 7, "0123456789/"), ("jpn", 7, DATE_CHARS), ("eng", 6, "0123456789/"), ("jpn", 6, DATE_CHARS))
AGREED_CONFIDENCE = 0.95  # digits or a date OCR read and the glyphs bear out (first pass; 0.9 a later one)
DATE_AGREED_CONFIDENCE = 0.85  # a date two passes read alike, the glyphs not matched one by one
LATER_PASS_CONFIDENCE = 0.9  # a reading borne out, from a later pass
UNSURE_SHAPE_CONFIDENCE = 0.85  # two passes alike, loops right, a glyph's likeness unclear (5 or 6?)
TEXT_CONFIDENCE = 0.6  # handwritten text: what OCR read, unchecked


@dataclass(frozen=True)
class _Located:
    to_page: Matrix  # 3×3 homography: page millimetres → image pixels
    by: str  # "QR code and marks", "QR code and 3 marks", "QR code", "marks"
    outline: float  # share of printed outlines found


def read_form(image: Image.Image, geometry: FormGeometry, *,
              reference_check: ReferenceCheck | None = None,
              read_contact: bool = True, read_fields: bool = True, ocr: Ocr | None = None) -> FormReading:
    """Read a returned fax-back form from one page image (any mode; square pixels, or its ``info["dpi"]``).

    ``reference_check`` tells a real reference from an OCR misreading (and a foreign
    QR code). It must be strict: an issued reference, exactly (a lookup, or a check
    code of 4 characters or more), since an OCR misreading is corrected by trying up
    to a few thousand variants per reading and only one of them may pass.
    ``read_contact=False`` skips the contact field's OCR, ``read_fields=False`` the
    other fields' (the crops are kept, and whether something is written);
    ``ocr`` defaults to ``TesseractOcr()``. Never raises.
    """
    try:
        return _Reader(geometry, reference_check, read_contact, ocr or TesseractOcr(), read_fields).read(image)
    except Exception as exc:  # a worker must never crash on a page
        log.exception("fax-back form: unexpected failure")
        return FormReading(None, None, None, 0.0, (f"form could not be read: {type(exc).__name__}: {exc}",))


def find_reference(image: Image.Image, reference_check: ReferenceCheck | None = None) -> str | None:
    """The reference in the page's QR code, if it has one (``reference_check`` as for ``read_form``), else None.

    No OCR and no form geometry: a few tens of milliseconds, to tell one of our forms
    from any other page before reading it. Without a check, any QR text shaped like a
    reference. Never raises.
    """
    try:
        found = _find_qr(_gray_square(image), reference_check)
    except Exception:  # a worker must never crash on a page
        log.exception("QR code: unexpected failure")
        return None
    return found[0] if found else None


def read_faxback(image: Image.Image, geometry: FormGeometry, *,
                 reference_check: ReferenceCheck | None = None,
                 read_contact: bool = True, ocr: Ocr | None = None) -> FaxbackReading:
    """The invitation letter's form (``FAXBACK_FORM``, ``workflows.letters.faxback_geometry()``) read by ``read_form``.

    The same reading, with the answer as an ``Intent`` (approve, reject, hold); a
    box named otherwise gives no answer. Never raises.
    """
    reading = read_form(image, geometry, reference_check=reference_check, read_contact=read_contact,
                        read_fields=False, ocr=ocr)
    intents = {i.value: i for i in Intent}
    answer = intents.get(reading.answer) if reading.answer is not None else None
    reasons = reading.reasons
    if reading.answer is not None and answer is None:
        reasons += (f"box {reading.answer!r} is not an invitation answer",)
    return FaxbackReading(
        reference=reading.reference, reference_source=reading.reference_source, answer=answer,
        confidence=reading.confidence if answer is not None or reading.answer is None else 0.0, reasons=reasons,
        box_scores=reading.box_scores, ring_scores=reading.ring_scores, contact_image=reading.contact_image,
        contact_text=reading.contact_text, rotation=reading.rotation, skew_deg=reading.skew_deg)


class _Reader:
    def __init__(self, geometry: FormGeometry, check: ReferenceCheck | None, read_contact: bool,
                 ocr: Ocr, read_fields: bool = True) -> None:
        self.geometry = geometry
        self.check = check
        self.read_contact = read_contact
        self.read_fields = read_fields
        self.ocr = ocr
        self.reasons: list[str] = []
        g = geometry
        self.origin = (g.form_rect.x, g.form_rect.y)
        self.canvas_size = (round(g.form_rect.w * SCALE), round(g.form_rect.h * SCALE))

    # -- the steps ------------------------------------------------------------------------------

    def read(self, image: Image.Image) -> FormReading:
        gray = _gray_square(image)
        if min(gray.shape) < MIN_PAGE_PX:
            return FormReading(None, None, None, 0.0, (f"page too small to read ({gray.shape[1]}×{gray.shape[0]})",))
        ink = _ink(gray)
        qr = _find_qr(gray, self.check)
        located = self._locate(gray, ink, qr)
        if located is None:
            return FormReading(qr[0] if qr else None, ReferenceSource.QR if qr else None, None, 0.0,
                               tuple(self.reasons))
        rotation, skew = _rotation(located.to_page, self.geometry)
        if rotation:
            self.reasons.append("page was upside down" if rotation == 180 else f"page was turned by {rotation}°")
        gray = self._erase_streaks(gray, ink, located.to_page)
        canvas = _clean(self._warp(gray, located.to_page, self.geometry.form_rect, SCALE) < 128)
        printed = self._printed(canvas.shape)
        scores, rings, spans = self._measure(canvas, printed)
        # a form of fields only asks no question: "no box marked" would be noise
        answer, answer_confidence = self._decide(scores, rings, spans) if self.geometry.boxes else (None, 1.0)
        blank = all(scores[k] < INNER_TRACE and rings[k] < RING_TRACE for k in scores)

        reference, source, reference_confidence = None, None, 1.0
        if qr is not None:
            reference, source, reference_confidence = qr[0], ReferenceSource.QR, 0.99
        else:
            reference, reference_confidence = self._read_reference(gray, located.to_page)
            source = ReferenceSource.OCR if reference else None

        contact_image, contact_text = self._contact(gray, located.to_page)
        fields = {f.name: self._field(gray, canvas, printed, located.to_page, f) for f in self.geometry.fields}
        confidence = min(answer_confidence, reference_confidence) if reference else answer_confidence
        log.debug("fax-back form %s located by %s (outlines %.2f): %s (%.2f), boxes %s, rings %s", reference,
                  located.by, located.outline, answer, confidence, scores, rings)
        return FormReading(
            reference=reference, reference_source=source, answer=answer, confidence=round(confidence, 3),
            reasons=tuple(self.reasons), box_scores=MappingProxyType(scores), ring_scores=MappingProxyType(rings),
            contact_image=contact_image, contact_text=contact_text, rotation=rotation,
            skew_deg=round(skew, 2) + 0.0, fields=MappingProxyType(fields), blank=blank, located=True)

    def _locate(self, gray: Gray, ink: Mask, qr: tuple[str, list[tuple[float, float]]] | None) -> _Located | None:
        g = self.geometry
        if qr is not None:
            q = g.qr
            from_qr = _affine([(q.x, q.y), (q.right, q.y), (q.right, q.bottom), (q.x, q.bottom)], qr[1])
            found = _marks_near(ink, g, from_qr, 4.0)
            hits = [(m, f) for m, f in zip(g.marks, found, strict=True) if f is not None]
            candidates: list[tuple[Matrix, str]] = []
            if len(hits) == 4:
                candidates.append((_homography([m for m, _ in hits], [f for _, f in hits]), "QR code and marks"))
            elif len(hits) == 3:
                candidates.append((_affine([m for m, _ in hits], [f for _, f in hits]), "QR code and 3 marks"))
            candidates.append((from_qr, "QR code"))
            for to_page, by in candidates:
                outline = self._outline_score(gray, to_page)
                if outline >= OUTLINE_FOUND:
                    if by == "QR code":
                        self.reasons.append("registration marks not found; form located by its QR code")
                    return _Located(to_page, by, outline)
            self.reasons.append("QR code read, but the printed form is not where the QR code puts it")
            return None
        self.reasons.append("QR code unreadable")
        marks = _mark_candidates(ink, g)
        hypotheses = _mark_hypotheses(marks, g)
        scored = sorted(((self._outline_score(gray, h), i) for i, h in enumerate(hypotheses)), reverse=True)
        if not scored or scored[0][0] < OUTLINE_FOUND:  # a mark lost (scribbled over, cut off): three will do
            hypotheses = _three_mark_hypotheses(marks, g)
            scored = sorted(((self._outline_score(gray, h), i) for i, h in enumerate(hypotheses)), reverse=True)
        if not hypotheses:
            self.reasons.append("form not found: no QR code and no registration marks")
            return None
        best, index = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if best < OUTLINE_FOUND:
            self.reasons.append(f"form not found: registration marks found, but not the printed boxes ({best:.2f})")
            return None
        if best - runner_up < 0.15:
            self.reasons.append(f"form orientation unclear ({best:.2f} against {runner_up:.2f})")
            return None
        return _Located(hypotheses[index], "marks", best)

    def _outline_score(self, gray: Gray, to_page: Matrix) -> float:
        """The share of the printed outlines (boxes, contact field) found near where they should be."""
        canvas = self._warp(gray, to_page, self.geometry.form_rect, SCALE) < 128
        return float(np.mean([self._find_outline(canvas, r)[2] for r in self.geometry.outlined]))

    def _printed(self, shape: tuple[int, ...]) -> Mask:
        """Where the rectified form has print of its own (0.6 mm around each printed rectangle)."""
        printed = np.zeros(shape, dtype=bool)
        for rect in self.geometry.printed_rects():
            y0, y1, x0, x1 = self._slice(rect.expanded(0.6))
            printed[y0:y1, x0:x1] = True
        return printed

    def _measure(self, canvas: Mask, printed: Mask) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """Per box: the ink inside it, the ring around it, and how far the ink inside spreads (0..1)."""
        g = self.geometry
        background = self._background(canvas, printed)
        scores: dict[str, float] = {}
        rings: dict[str, float] = {}
        spans: dict[str, float] = {}
        for b in g.boxes:
            dx, dy, _ = self._find_outline(canvas, b.box)
            inner = b.box.expanded(-(g.box_line + 0.9))
            y0, y1, x0, x1 = self._slice(inner, dx, dy)
            inside = canvas[y0:y1, x0:x1]
            density = float(inside.mean()) if inside.size else 0.0
            scores[b.answer] = round(max(0.0, density - background), 4)
            ys, xs = np.nonzero(inside)
            spans[b.answer] = (max((xs.max() - xs.min() + 1) / inside.shape[1],
                                         (ys.max() - ys.min() + 1) / inside.shape[0]) if xs.size else 0.0)
            others = [o for o in g.boxes if o is not b]
            rings[b.answer] = round(max(
                self._ring(canvas, printed, b.box.union(b.label), others, 12.0, 6.0),
                self._ring(canvas, printed, b.box, others, 8.0, 6.0)), 3)
        return scores, rings, spans

    def _decide(self, scores: Mapping[str, float], rings: Mapping[str, float],
                spans: Mapping[str, float]) -> tuple[str | None, float]:
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
            self.reasons.append("specks ignored: " + ", ".join(f"{k} {scores[k]:.2f}" for k in specks))

        if len(marked) == 1 and not doubtful:
            answer = marked[0]
            quiet = all(scores[k] < INNER_TRACE / 2 and rings[k] < RING_TRACE / 2 for k in scores if k != answer)
            how = "circled" if scores[answer] < INNER_MARKED else "marked"
            self.reasons.append(f"{answer} {how}: {describe(answer)}")
            return answer, 0.97 if quiet else 0.92
        if len(marked) >= 2:
            words = {2: "two", 3: "three", 4: "four", 5: "five"}
            self.reasons.append(f"{words.get(len(marked), str(len(marked)))} boxes marked: "
                                + ", ".join(describe(k) for k in marked))
        elif marked:
            self.reasons.append(f"{describe(marked[0])} marked, but also ink at "
                                + ", ".join(describe(k) for k in doubtful))
        elif doubtful:
            self.reasons.append("no box clearly marked; some ink at " + ", ".join(describe(k) for k in doubtful))
        else:
            self.reasons.append("no box marked")
        return None, 0.2 if marked or doubtful else 0.1

    def _read_reference(self, gray: Gray, to_page: Matrix) -> tuple[str | None, float]:
        """The reference printed in clear, by OCR: a few passes until one reading passes the check.

        Passes differ in scale, page segmentation and whitelist; every reading that passes the
        check (as read, or with a confusion undone) is a candidate, and only a single
        candidate is accepted. Without a check, the first reading shaped like a
        reference is taken, unchecked.
        """
        rect = self.geometry.reference_text.expanded(1.5, 1.0)
        readings: list[str] = []
        candidates: list[str] = []
        for scale, psm, whitelist in REFERENCE_PASSES:
            crop = self._warp(gray, to_page, rect, scale)
            image = Image.fromarray(np.where(_clean(crop < 150, 8), 0, 255).astype(np.uint8))
            image.info["dpi"] = (round(scale * 25.4), round(scale * 25.4))
            try:
                raw = self.ocr(image, languages="eng", psm=psm, whitelist=REFERENCE_CHARS if whitelist else None)
            except OcrError as exc:
                self.reasons.append(f"QR code unreadable and OCR unavailable ({exc}): no reference")
                return None, 0.0
            text = re.sub(r"[^A-Z0-9-]", "", raw.upper().translate(_SYMBOLS)).strip("-")
            if not text or text in readings:
                continue
            readings.append(text)
            if self.check is None:
                if REFERENCE_SHAPE.fullmatch(text):
                    self.reasons.append(f"QR code unreadable; reference read by OCR as {text}, not checked")
                    return text, 0.6
                continue
            as_read = _checked(self.check, text)
            if as_read:  # no need for another pass
                candidates = [as_read]
                break
            candidates += [c for c in _corrections(text, self.check) if c not in candidates]
        if not readings:
            self.reasons.append("QR code unreadable; reference text not readable by OCR")
            return None, 0.0
        shown = " / ".join(readings)
        if self.check is None:
            self.reasons.append(f"QR code unreadable; OCR read {shown}, which does not look like a reference")
            return None, 0.0
        reference = _one_reference(candidates)
        if reference:
            corrected = not any(_checked(self.check, r) == reference for r in readings)
            self.reasons.append("QR code unreadable; reference read by OCR" +
                                (f" (read {shown}, corrected)" if corrected else ""))
            return reference, 0.9 if corrected else 0.95
        if candidates:
            self.reasons.append(f"QR code unreadable; OCR read {shown}, which fits several references: "
                                + ", ".join(candidates[:5]))
        else:
            self.reasons.append(f"QR code unreadable; OCR read {shown}, which is not a valid reference")
        return None, 0.0

    def _contact(self, gray: Gray, to_page: Matrix) -> tuple[bytes | None, str | None]:
        """The contact field inside its outline, as PNG, and what Tesseract reads there (see ``_read_text``)."""
        if self.geometry.contact is None:
            return None, None
        field_rect = self.geometry.contact.expanded(-(self.geometry.box_line + 0.6))
        crop = self._warp(gray, to_page, field_rect, CROP_SCALE)
        bits = _clean(crop < 128)
        png = _png_bits(bits)
        if bits.mean() < 0.004:
            self.reasons.append("contact field is empty")
            return png, None
        if not self.read_contact:
            return png, None
        try:
            text = self._read_text(bits)
        except OcrError as exc:
            self.reasons.append(f"contact field not read: {exc}")
            return png, None
        if not text:
            self.reasons.append("contact field written, but not readable by OCR")
        return png, text or None

    def _read_text(self, bits: Mask) -> str:
        """Handwritten text, by Tesseract: raises OcrError.

        OCR runs on the writing only (cropped to its ink, scaled to ~64 px high):
        Japanese first; a reading without any Japanese character is read again as
        English (a Latin name). Tesseract's combined jpn+eng model reads the second
        word of a Japanese name as Latin letters too often ("山田 AR BB").
        """
        dpi = round(CROP_SCALE * 25.4)
        ys, xs = np.nonzero(bits)
        margin = round(2 * CROP_SCALE)
        y0, y1 = max(0, ys.min() - margin), min(bits.shape[0], ys.max() + margin + 1)
        x0, x1 = max(0, xs.min() - margin), min(bits.shape[1], xs.max() + margin + 1)
        writing = Image.fromarray(np.where(bits[y0:y1, x0:x1], 0, 255).astype(np.uint8))
        factor = min(1.5, max(0.3, 64 / max(1, ys.max() - ys.min() + 1)))
        writing = writing.resize((max(1, round(writing.width * factor)), max(1, round(writing.height * factor))),
                                 Image.Resampling.LANCZOS)
        writing.info["dpi"] = (round(dpi * factor), round(dpi * factor))
        text = _tidy_japanese(self.ocr(writing, languages="jpn", psm=7))
        if text and not re.search(f"[{_CJK}]", text):
            text = _tidy_japanese(self.ocr(writing, languages="eng", psm=7))
        return text

    def _field(self, gray: Gray, canvas: Mask, printed: Mask, to_page: Matrix, spec: FormField) -> FieldReading:
        """One field: its crop inside the outline (found within ±1.2 mm), whether it is written, what it says."""
        dx, dy, coverage = self._find_outline(canvas, spec.rect)
        if coverage < 0.5:  # outline not found: trust the geometry
            dx = dy = 0
        inner = spec.rect.expanded(-(self.geometry.box_line + FIELD_INSET))
        inner = Rect(inner.x + dx / SCALE, inner.y + dy / SCALE, inner.w, inner.h)
        bits = _without_edge_lines(_clean(self._warp(gray, to_page, inner, CROP_SCALE) < 128, FIELD_SPECK_PX))
        png = _png_bits(bits)
        outside = self._outside(canvas, printed, spec.rect, dx, dy)
        if spec.kind == "text":  # lines of words: glyphs as one line of digits has them would join specks
            if not _has_stroke(bits, CROP_SCALE):
                return FieldReading(spec.name, spec.kind, png, False, None, 0.0, None, outside)
            return self._read_field(bits, _writing(bits, dots=False), png, spec, outside)
        writing = _writing(bits, dots=spec.kind == "digits")
        if not writing.glyphs:
            if writing.loose_ink >= LOOSE_INK_MM2 * CROP_SCALE ** 2:  # broken strokes, not specks: a person looks
                return FieldReading(spec.name, spec.kind, png, True, None, 0.0,
                                    f"{spec.name}: ink but no character made out", outside)
            reason = f"{spec.name}: specks ignored" if writing.specks else None
            return FieldReading(spec.name, spec.kind, png, False, None, 0.0, reason, outside)
        if _touches_edge(writing):
            outside = "writing runs over the box's edge" + (f"; {outside}" if outside else "")
        return self._read_field(bits, writing, png, spec, outside)

    def _outside(self, canvas: Mask, printed: Mask, rect: Rect, dx: int, dy: int) -> str | None:
        """Writing beside a field where nothing is printed: a stroke 2 mm long or more, not a toner spot."""
        y0, y1, x0, x1 = self._slice(rect.expanded(OUTSIDE_MM, OUTSIDE_MM / 2), dx, dy)
        return "writing outside the box" if _has_stroke(canvas[y0:y1, x0:x1] & ~printed[y0:y1, x0:x1], SCALE) \
            else None

    def _read_field(self, bits: Mask, writing: _Writing, png: bytes, spec: FormField,
                    outside: str | None) -> FieldReading:
        """What the writing in a field says (``_field``: there is some)."""
        reading = self._read_writing(bits, writing, png, spec)
        return replace(reading, outside=outside) if outside else reading

    def _read_writing(self, bits: Mask, writing: _Writing, png: bytes, spec: FormField) -> FieldReading:
        if not self.read_fields:
            return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: written, not read")
        try:
            if spec.kind == "text":
                words = self._read_text(bits)
                if not words:
                    return FieldReading(spec.name, spec.kind, png, True, None, 0.0,
                                        f"{spec.name}: written, but not readable by OCR")
                return FieldReading(spec.name, spec.kind, png, True, words, TEXT_CONFIDENCE)
            text, confidence, why = self._read_characters(writing, spec.kind)
        except OcrError as exc:
            return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: not read: {exc}")
        if text is None:
            return FieldReading(spec.name, spec.kind, png, True, None, 0.0, f"{spec.name}: {why}")
        return FieldReading(spec.name, spec.kind, png, True, text, confidence)

    def _read_characters(self, writing: _Writing, kind: FieldKind) -> tuple[str | None, float, str]:
        """Digits or a date: the first OCR pass whose reading the glyphs bear out, its confidence, or why none.

        The glyphs are laid out evenly and read by Tesseract with a whitelist, a pass at a
        time (``DIGIT_PASSES``, ``DATE_PASSES``). A reading counts only if all of these hold:

        - one character per glyph, a decimal point exactly where a dot glyph is (a digit
          lost, doubled or made of a speck shows);
        - every digit's glyph has the closed loops that digit has (``LOOPS``: 3/8, 5/6,
          0/9 are Tesseract's confusions) and a 1 is narrow, other digits are not;
        - every digit is the one its glyph looks most like, clearly, among digits drawn
          in other fonts (``_seen_digits``): a second opinion that fails otherwise.
        """
        image = _relaid(writing)
        passes = DIGIT_PASSES if kind == "digits" else DATE_PASSES
        seen = _seen_digits(writing)
        readings: list[str] = []
        unsure: list[str] = []  # readings the glyphs fit but whose likeness is not clear for a digit or two
        why = ""
        for number, (languages, psm, whitelist) in enumerate(passes):
            text = _characters(self.ocr(image, languages=languages, psm=psm, whitelist=whitelist), kind)
            readings.append(text)
            if not text:
                continue
            if not _fits_glyphs(text, writing.glyphs, kind):
                why = why or f"{text!r} does not match the {len(writing.glyphs)} characters written"
                continue
            misfit = _shape_misfit(text, writing)
            if misfit:
                why = why or f"{text!r} does not match the shapes written ({misfit})"
                continue
            differ = [s for ch, s, g in zip(text, seen, writing.glyphs, strict=True)
                      if ch.isdigit() and ch != s and not (ch == "1" and _narrow(g))]
            if differ and all(s == "?" for s in differ):
                unsure.append(text)
                if unsure.count(text) >= 2:  # two passes read it alike, and no glyph says otherwise
                    return text, UNSURE_SHAPE_CONFIDENCE, ""
                continue
            if differ:
                why = why or f"read {text!r}, but the glyphs look like {seen!r}"
                continue
            return text, AGREED_CONFIDENCE if number == 0 else LATER_PASS_CONFIDENCE, ""
        if kind == "date":  # 月 and 日 may come apart in strokes: two passes that read them and the same day do,
            # if the month's digits are the first glyphs' and no more than 月 and 日 came apart
            days = [_month_day(r) for r in readings if "月" in r and len(r) < len(writing.glyphs) <= len(r) + 2
                    and all(ch == s for ch, s in zip(r[:r.index("月")], seen, strict=False))]
            for day in days:
                if day is not None and days.count(day) >= 2:
                    return f"{day[0]}/{day[1]}", DATE_AGREED_CONFIDENCE, ""
        shown = " / ".join(repr(r) for r in readings)
        return None, 0.0, f"written, but not read for sure (OCR {shown}{'; ' + why if why else ''})"

    def _erase_streaks(self, gray: Gray, ink: Mask, to_page: Matrix) -> Gray:
        """The page without the straight lines a fax adds: a bad scan line across, dirt on the glass down.

        They are ink runs at least ``STREAK_MM`` long, exactly along the image's rows or
        columns, and not lying on the form's own print (the contact field's outline is
        such a run when the page is not skewed). A run that mostly does lie on print (a
        streak along a table's row) loses what of it does not: the part inside a field or
        in the margin is the fax's.
        """
        form = self.geometry.form_rect
        ppm = _mm_px(to_page, form.center)
        length = max(20, round(STREAK_MM * ppm))
        # only around the form: what the fax did elsewhere on the page does not matter
        corners = [_apply(to_page, c) for c in ((form.x, form.y), (form.right, form.y), (form.right, form.bottom),
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
        printed = [r.expanded(1.0) for r in self.geometry.printed_rects()]
        # inside a box or field nothing is printed: a line there is the fax's (or the partner's)
        outlined = [r for r in self.geometry.outlined if r.w > 2.5 and r.h > 2.5]
        blank = [r.expanded(-1.0) for r in outlined]
        inner = [r.expanded(-(self.geometry.box_line + 0.15)) for r in outlined]  # just inside the outline
        out = gray.copy()
        erased = 0
        for kernel in (np.ones((1, length), np.uint8), np.ones((length, 1), np.uint8)):
            runs = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
            if not runs.any():
                continue
            n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
            for i in range(1, n):
                x, y, bw, bh = (int(v) for v in stats[i, :4])
                points = [_apply(to_mm, (x0 + x + bw * t / 10, y0 + y + bh * t / 10)) for t in range(11)]
                if not any(_inside(form, p) for p in points):
                    continue  # outside the form: harmless
                streak = labels[y:y + bh, x:x + bw] == i
                if sum(any(_inside(r, p) for r in printed) and not any(_inside(r, p) for r in blank)
                       for p in points) >= 9:  # the form's own line, or a streak along it
                    ys, xs = np.nonzero(streak)
                    mx, my = _apply_all(to_mm, (xs + (x0 + x)).astype(np.float64), (ys + (y0 + y)).astype(np.float64))
                    off = ~(_in_any(printed, mx, my) & ~_in_any(inner, mx, my))
                    if off.sum() < length / 4:
                        continue
                    streak = np.zeros_like(streak)
                    streak[ys[off], xs[off]] = True
                region = out[y0 + y:y0 + y + bh, x0 + x:x0 + x + bw]
                region[streak] = 255
                erased += 1
        if erased:
            self.reasons.append("a streak across the form was ignored" if erased == 1
                                else f"{erased} streaks across the form were ignored")
        return out

    # -- helpers over the rectified form --------------------------------------------------------

    def _warp(self, gray: Gray, to_page: Matrix, rect: Rect, scale: float) -> Gray:
        """``rect`` of the page at ``scale`` px/mm, sampled from the image through ``to_page``."""
        size = (max(1, round(rect.w * scale)), max(1, round(rect.h * scale)))
        to_mm = np.array([[1 / scale, 0, rect.x], [0, 1 / scale, rect.y], [0, 0, 1]], dtype=np.float64)
        m = to_page @ to_mm
        warped = cv2.warpPerspective(gray, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=255)
        return np.asarray(warped, dtype=np.uint8)

    def _slice(self, rect: Rect, dx: int = 0, dy: int = 0) -> tuple[int, int, int, int]:
        ox, oy = self.origin
        w, h = self.canvas_size
        x0 = min(w, max(0, round((rect.x - ox) * SCALE) + dx))
        x1 = min(w, max(0, round((rect.right - ox) * SCALE) + dx))
        y0 = min(h, max(0, round((rect.y - oy) * SCALE) + dy))
        y1 = min(h, max(0, round((rect.bottom - oy) * SCALE) + dy))
        return y0, y1, x0, x1

    def _find_outline(self, canvas: Mask, rect: Rect, search_mm: float = 1.2) -> tuple[int, int, float]:
        """Where a printed rectangle outline is, within ``search_mm``: offset (px) and coverage 0..1.

        Coverage: the share of positions along the four sides with ink within ±0.3 mm
        of the line. Ties go to the smallest offset (a filled box has ink everywhere).
        """
        r = round(search_mm * SCALE)
        band = max(1, round(0.3 * SCALE))
        half = max(1, round(self.geometry.box_line * SCALE / 2))
        y0, y1, x0, x1 = self._slice(rect)
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

    def _background(self, canvas: Mask, printed: Mask) -> float:
        """The speckle left on blank paper: the median ink density of 5 mm cells clear of print."""
        cell = round(5 * SCALE)
        densities = []
        h, w = canvas.shape
        for y in range(0, h - cell, cell):
            for x in range(0, w - cell, cell):
                if not printed[y:y + cell, x:x + cell].any():
                    densities.append(float(canvas[y:y + cell, x:x + cell].mean()))
        return float(np.median(densities)) if densities else 0.0

    def _ring(self, canvas: Mask, printed: Mask, target: Rect, others: Sequence[AnswerBox], out_x: float,
              out_y: float) -> float:
        """The share of 24 directions around ``target`` in which a line is drawn just outside it.

        Looked at: from 0.8 mm outside the target to ``out_x``/``out_y`` mm, not on
        print, and nearer to this target than to any other box and label (a circle
        around a neighbour, wide as it may be, is the neighbour's). Directions mostly
        hidden by print (a box's own label) do not count either way.
        """
        y0, y1, x0, x1 = self._slice(target.expanded(out_x, out_y))
        around = np.ones((y1 - y0, x1 - x0), dtype=bool)
        iy0, iy1, ix0, ix1 = self._slice(target.expanded(0.8))
        around[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = False
        ox, oy = self.origin
        ys, xs = np.nonzero(around)
        mx, my = (xs + x0) / SCALE + ox, (ys + y0) / SCALE + oy
        cx, cy = target.center
        angle = np.arctan2((my - cy) / (target.h / 2 + 3), (mx - cx) / (target.w / 2 + 3))
        sectors = ((angle + math.pi) / (2 * math.pi) * 24).astype(int) % 24
        whole = np.bincount(sectors, minlength=24)
        own = _rect_distance(target, mx, my)
        keep = ~printed[y0:y1, x0:x1][ys, xs]
        for other in others:
            keep &= own < _rect_distance(other.box.union(other.label), mx, my)
        seen = np.bincount(sectors[keep], minlength=24)
        available = (seen >= 60) & (seen >= 0.35 * whole)
        inked = np.bincount(sectors[keep & canvas[y0:y1, x0:x1][ys, xs]], minlength=24) >= 30
        if available.sum() == 0:
            return 0.0
        return float((inked & available).sum() / available.sum())


# ---------------------------------------------------------------------------------------------
# Image helpers


def _gray_square(image: Image.Image) -> Gray:
    """Grayscale pixels, resampled to square pixels if ``info["dpi"]`` says they are not."""
    if image.mode in ("I", "I;16", "F"):
        image = image.point(lambda v: v / 256).convert("L") if image.mode != "F" else image.convert("L")
    gray = image.convert("L")
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            xdpi, ydpi = float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):
            xdpi = ydpi = 0.0
        if xdpi > 0 and ydpi > 0 and abs(xdpi / ydpi - 1) > 0.05:
            if xdpi > ydpi:
                gray = gray.resize((gray.width, round(gray.height * xdpi / ydpi)), Image.Resampling.NEAREST)
            else:
                gray = gray.resize((round(gray.width * ydpi / xdpi), gray.height), Image.Resampling.NEAREST)
    return np.asarray(gray, dtype=np.uint8)


def _ink(gray: Gray) -> Mask:
    """Ink where darker than Otsu's threshold (kept between 90 and 200 for blank or dark pages)."""
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = min(200.0, max(90.0, float(t)))
    return np.asarray(gray < t)


def _clean(ink: Mask, min_px: int = 30) -> Mask:
    """Without the specks: connected blobs smaller than ``min_px`` pixels are dropped."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_px
    keep[0] = False
    return np.asarray(keep[labels])


_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _find_qr(gray: Gray, check: ReferenceCheck | None) -> tuple[str, list[tuple[float, float]]] | None:
    """The form's QR code: its text and its corners in the image (top-left, top-right, bottom-right, bottom-left).

    The corners are the symbol's own: its top-left is the corner of the finder
    pattern that is top-left on the printed page, whichever way the page arrived.
    A QR code that is not a reference (``check``, or the reference shape) is ignored;
    the text is the check's spelling of the reference when it gives one.
    """
    found: list[zxingcpp.Barcode] = []
    for attempt in range(2):
        img = gray if attempt == 0 else np.asarray(cv2.medianBlur(gray, 3), dtype=np.uint8)
        found = [b for b in zxingcpp.read_barcodes(img, formats=_QR_ONLY)
                 if b.valid and b.text.strip()]
        if found:
            break

    for barcode in found:
        text = barcode.text.strip()
        reference = _checked(check, text) if check is not None else (text if REFERENCE_SHAPE.fullmatch(text) else None)
        if reference:
            p = barcode.position
            corners = [(float(c.x), float(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
            return reference, corners
    if found:
        log.info("fax-back form: QR code %r is not a reference; ignored", found[0].text[:80])
    return None


def _checked(check: ReferenceCheck, text: str) -> str | None:
    """The reference ``text`` is (or holds) by ``check``: its own spelling if the check says so, else ``text``."""
    try:
        verdict = check(text)
    except Exception:  # a check that raises says no
        log.warning("reference check raised on %r", text, exc_info=True)
        return None
    if isinstance(verdict, str):
        return verdict.strip() or None
    return text if verdict else None


def _one_reference(candidates: Sequence[str]) -> str | None:
    """The reference all candidates spell, if they spell one: equal up to OCR confusions and stray characters."""
    if not candidates:
        return None
    folded = [c.translate(_FOLD) for c in candidates]
    core = min(folded, key=len)
    if all(core in f for f in folded):
        return candidates[folded.index(core)]
    return None


def _inside(rect: Rect, point: tuple[float, float]) -> bool:
    return rect.x <= point[0] <= rect.right and rect.y <= point[1] <= rect.bottom


def _apply_all(m: Matrix, x: npt.NDArray[np.float64],
               y: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``_apply`` to many points at once."""
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w


def _in_any(rects: Sequence[Rect], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Mask:
    """Which points (mm) lie in one of ``rects``."""
    inside = np.zeros(x.shape, dtype=bool)
    for r in rects:
        inside |= (x >= r.x) & (x <= r.right) & (y >= r.y) & (y <= r.bottom)
    return inside


def _rect_distance(rect: Rect, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Distance (mm) of points to a rectangle, 0 inside."""
    dx = np.maximum(np.maximum(rect.x - x, x - rect.right), 0.0)
    dy = np.maximum(np.maximum(rect.y - y, y - rect.bottom), 0.0)
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def _homography(mm: Sequence[tuple[float, float]], px: Sequence[tuple[float, float]]) -> Matrix:
    m = cv2.getPerspectiveTransform(np.array(mm, dtype=np.float32), np.array(px, dtype=np.float32))
    return np.asarray(m, dtype=np.float64)


def _affine(mm: Sequence[tuple[float, float]], px: Sequence[tuple[float, float]]) -> Matrix:
    """The least-squares affine map mm → px through three or more point pairs, as a 3×3 matrix."""
    a = np.array([[x, y, 1.0] for x, y in mm])
    b = np.array(px, dtype=np.float64)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.vstack([solution.T, [0.0, 0.0, 1.0]])


def _apply(m: Matrix, point: tuple[float, float]) -> tuple[float, float]:
    x, y, w = m @ np.array([point[0], point[1], 1.0])
    return float(x / w), float(y / w)


def _mm_px(m: Matrix, at: tuple[float, float]) -> float:
    """Pixels per millimetre of ``m`` around ``at``."""
    a = _apply(m, at)
    b = _apply(m, (at[0] + 1, at[1]))
    c = _apply(m, (at[0], at[1] + 1))
    return (math.dist(a, b) + math.dist(a, c)) / 2


def _rotation(m: Matrix, geometry: FormGeometry) -> tuple[int, float]:
    """How the page is turned (counter-clockwise degrees): a multiple of 90, and the skew left over."""
    at = geometry.marks_rect.center
    a = _apply(m, at)
    b = _apply(m, (at[0] + 10, at[1]))
    theta = math.degrees(math.atan2(-(b[1] - a[1]), b[0] - a[0]))
    quarter = round(theta / 90)
    return (quarter * 90) % 360, theta - quarter * 90


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
    ppm = _mm_px(to_page, geometry.form_rect.center)
    lo, hi = geometry.mark_size * ppm * 0.6, geometry.mark_size * ppm * 1.6
    reach = round((tolerance_mm + geometry.mark_size) * ppm)
    h, w = ink.shape
    found: list[tuple[float, float] | None] = []
    for mark in geometry.marks:
        px, py = _apply(to_page, mark)
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
                out.append(_homography(mm, px))
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
                out.append(_affine([mm[k], mm[(k + 1) % 4], mm[(k - 1) % 4]], [v, nxt, prv]))
    return out


def _corrections(text: str, check: ReferenceCheck) -> list[str]:
    """The references ``text`` may be: as read, else with one or two OCR confusions undone (by ``check``)."""
    as_read = _checked(check, text)
    if as_read:
        return [as_read]
    positions = [i for i, ch in enumerate(text) if ch in CONFUSABLE]
    passing: list[str] = []
    tried = 0
    for count in (1, 2):
        for chosen in itertools.combinations(positions, count):
            for replacement in itertools.product(*(CONFUSABLE[text[i]] for i in chosen)):
                tried += 1
                if tried > MAX_CANDIDATES:
                    return passing
                chars = list(text)
                for i, ch in zip(chosen, replacement, strict=True):
                    chars[i] = ch
                reference = _checked(check, "".join(chars))
                if reference and reference not in passing:
                    passing.append(reference)
        if passing:
            return passing
    return passing


_CJK = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f"


def _tidy_japanese(raw: str) -> str:
    """OCR output on one line, without spaces between Japanese characters nor stray marks at the ends."""
    text = " ".join(raw.split())
    text = re.sub(rf"(?<=[{_CJK}]) (?=[{_CJK}])", "", text)
    return re.sub(r"^[\W_]+|[\W_]+$", "", text)


def _png_bits(bits: Mask) -> bytes:
    """A crop as a 1-bit PNG at the crop scale."""
    dpi = round(CROP_SCALE * 25.4)
    png = io.BytesIO()
    Image.fromarray(np.where(bits, 0, 255).astype(np.uint8)).convert("1").save(png, "PNG", dpi=(dpi, dpi))
    return png.getvalue()


def _without_edge_lines(bits: Mask) -> Mask:
    """A field's crop without what is left of its outline: long straight runs within 1 mm of an edge."""
    h, w = bits.shape
    band = round(1.0 * CROP_SCALE)
    if h <= 2 * band or w <= 2 * band:
        return bits
    out = bits.copy()
    ink8 = bits.astype(np.uint8)
    across = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((1, max(3, round(w * 0.5))), np.uint8)),
                        dtype=bool)
    down = np.asarray(cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((max(3, round(h * 0.8)), 1), np.uint8)),
                      dtype=bool)
    edge_rows = np.zeros_like(bits)
    edge_rows[:band, :] = edge_rows[-band:, :] = True
    edge_cols = np.zeros_like(bits)
    edge_cols[:, :band] = edge_cols[:, -band:] = True
    out[across & edge_rows] = False
    out[down & edge_cols] = False
    return out


@dataclass(frozen=True)
class _Glyph:
    """One character written in a field: connected strokes overlapping across (a 4, a 5 in two strokes)."""

    x0: int
    y0: int
    x1: int  # exclusive
    y1: int
    members: tuple[int, ...]  # its connected components' labels
    dot: bool = False  # a decimal point: small, on the baseline


@dataclass(frozen=True)
class _Writing:
    labels: npt.NDArray[np.int32]  # connected components of the crop's ink, strokes a pixel apart joined
    glyphs: tuple[_Glyph, ...]  # left to right
    specks: int  # small things left out
    loose_ink: int = 0  # pixels of the small things that are not solid spots (a broken stroke's pieces)


def _writing(bits: Mask, dots: bool = True) -> _Writing:
    """The characters written in a field's crop, left to right, and how many specks were left out.

    Components overlapping across by half the narrower one are one glyph (specks alone
    are none, see ``STROKE_MM``). Small ones
    (under ``SMALL_GLYPH`` of the tallest glyph and under ``MIN_GLYPH_MM``... see
    ``_small``) are a decimal point when they sit low, between the first glyph and
    just after the last (with ``dots``: digits), else specks; a small solid blob (a toner spot) is never a
    character but a decimal point's place.
    """
    # a thin stroke the fax broke into pieces is one stroke again (the pieces are labelled together)
    joined = cv2.dilate(bits.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, found, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    labels: npt.NDArray[np.int32] = np.where(joined > 0, np.asarray(found, dtype=np.int32), 0).astype(np.int32)
    merged: list[_Glyph] = []
    for i in sorted(range(1, n), key=lambda k: int(stats[k, 0])):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if merged:
            last = merged[-1]
            if min(last.x1, x + w) - max(last.x0, x) >= 0.5 * min(w, last.x1 - last.x0):
                merged[-1] = _Glyph(min(last.x0, x), min(last.y0, y), max(last.x1, x + w), max(last.y1, y + h),
                                    (*last.members, i))
                continue
        merged.append(_Glyph(x, y, x + w, y + h, (i,)))
    if not merged:
        return _Writing(labels, (), 0)
    tallest = max(g.y1 - g.y0 for g in merged)

    def stroke(i: int) -> bool:  # drawn by a pen: neither a speck nor a toner spot
        x, y, w, h = (int(v) for v in stats[i, :4])
        return max(w, h) >= STROKE_MM * CROP_SCALE and not _blob(labels, _Glyph(x, y, x + w, y + h, (i,)))

    big = [g for g in merged if not _small(g, tallest) and not _blob(labels, g)]
    # specks one above the other overlap across: alone in a field, without a stroke among them and with
    # little ink, they are no writing (beside writing they stay glyphs, and the reading goes to review)
    if big and not any(stroke(m) for g in big for m in g.members) and sum(
            int(np.isin(labels[g.y0:g.y1, g.x0:g.x1], g.members).sum()) for g in big) < LOOSE_INK_MM2 * CROP_SCALE ** 2:
        big = []
    if not big:
        loose = sum(int(np.isin(labels[g.y0:g.y1, g.x0:g.x1], g.members).sum()) for g in merged
                    if not _blob(labels, g))
        return _Writing(labels, (), len(merged), loose)
    top, bottom = min(g.y0 for g in big), max(g.y1 for g in big)
    left, right = min(g.x0 for g in big), max(g.x1 for g in big)
    glyphs: list[_Glyph] = []
    specks = 0
    for g in merged:
        if g in big:
            glyphs.append(g)
        elif dots and (g.y0 + g.y1) / 2 > top + 0.6 * (bottom - top) and left < g.x0 \
                and g.x1 <= right + (bottom - top):
            glyphs.append(_Glyph(g.x0, g.y0, g.x1, g.y1, g.members, dot=True))
        else:
            specks += 1
    return _Writing(labels, tuple(glyphs), specks)


def _has_stroke(ink: Mask, scale: float) -> bool:
    """A pen stroke in ``ink`` (at ``scale`` px/mm): something MIN_GLYPH_MM long or more, not a solid toner spot."""
    if not ink.any():
        return False
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        w, h, area = (int(v) for v in stats[i, 2:5])
        if max(w, h) >= MIN_GLYPH_MM * scale and (max(w, h) > BLOB_MM * scale or area / (w * h) <= BLOB_FILL):
            return True
    return False


def _touches_edge(writing: _Writing) -> bool:
    """A character reaches the crop's edge: it runs into the field's outline, maybe beyond."""
    labels = writing.labels
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    members = [m for g in writing.glyphs if not g.dot for m in g.members]
    return bool(np.isin(border, members).any())


def _small(g: _Glyph, tallest: int) -> bool:
    limit = max(MIN_GLYPH_MM * CROP_SCALE, SMALL_GLYPH * tallest)
    return g.y1 - g.y0 < limit and g.x1 - g.x0 < limit


def _blob(labels: npt.NDArray[np.int32], g: _Glyph) -> bool:
    """A small solid roundish spot (toner, a dot of ink), not a stroke."""
    w, h = g.x1 - g.x0, g.y1 - g.y0
    if max(w, h) > BLOB_MM * CROP_SCALE or not 0.5 <= w / max(1, h) <= 2.0:
        return False
    area = int(np.isin(labels[g.y0:g.y1, g.x0:g.x1], g.members).sum())
    return area / max(1, w * h) > BLOB_FILL


def _relaid(writing: _Writing) -> Image.Image:
    """The glyphs again, scaled so that the tallest is ``GLYPH_PX`` high, evenly spaced, with a white margin.

    Tesseract reads handwritten digits spaced out unevenly (or a digit alone) badly;
    laid out like print, it reads them well. Each glyph keeps its height above the
    baseline (a decimal point stays down).
    """
    glyphs = writing.glyphs
    top = min(g.y0 for g in glyphs)
    bottom = max(g.y1 for g in glyphs)
    factor = GLYPH_PX / max(1, max(g.y1 - g.y0 for g in glyphs if not g.dot))
    gap = round(GLYPH_PX * 0.3)
    pad = round(GLYPH_PX * 0.5)
    parts: list[tuple[Image.Image, int]] = []
    for g in glyphs:
        piece = np.isin(writing.labels[g.y0:g.y1, g.x0:g.x1], g.members)
        image = Image.fromarray(np.where(piece, 0, 255).astype(np.uint8))
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        parts.append((image.resize(size, Image.Resampling.LANCZOS), round((g.y0 - top) * factor)))
    width = 2 * pad + sum(p.width for p, _ in parts) + gap * (len(parts) - 1)
    out = Image.new("L", (width, round((bottom - top) * factor) + 2 * pad), 255)
    x = pad
    for image, dy in parts:
        out.paste(image, (x, pad + dy))
        x += image.width + gap
    out.info["dpi"] = (300, 300)
    return out


# Closed loops of each digit, top to bottom ("u" upper, "m" middle, "l" lower), as a hand writes it:
# a reading is kept only if every digit's glyph has loops that fit it. Tesseract's confusions
# (3/8, 5/6, 0/9, 2/9, 1/4) change the loops; a loop the fax broke open sends the field to review.
LOOPS: dict[str, tuple[str, ...]] = {
    "0": ("m",), "1": ("",), "2": ("",), "3": ("",), "4": ("", "u", "m"), "5": ("",), "6": ("l",), "7": ("",),
    "8": ("ul", "l", "u"), "9": ("u",),  # an 8's small loop is often filled in
}


def _shape_misfit(text: str, writing: _Writing) -> str | None:
    """Why the glyphs do not look like the digits read (closed loops, a 1's narrowness), or None if they may."""
    for ch, g in zip(text, writing.glyphs, strict=True):
        if ch not in LOOPS:
            continue
        glyph = np.isin(writing.labels[g.y0:g.y1, g.x0:g.x1], g.members)
        loops = _loops(glyph)
        if loops not in LOOPS[ch]:
            return f"{ch} with loops {loops or 'none'}"
        if ch in "06" and _loops(glyph, BIG_LOOP) != loops:  # a 5 or 8 closed up by a thick pen has a small one
            return f"{ch} with a small loop"
        aspect = glyph.shape[1] / max(1, glyph.shape[0])
        if (ch == "1" and aspect > ONE_WIDEST) or (ch != "1" and aspect < DIGIT_NARROWEST):
            return f"{ch} {aspect:.2f} times as wide as high"
    return None


# Digits drawn in fonts other than the simulator's (samples/faxsim.py writes in Klee One or IPAex
# Gothic): the second opinion on a handwritten digit is not trained on the hand it is tested with.
TEMPLATE_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
                  "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                  "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
TEMPLATE_SIZE = (20, 28)  # width, height of a normalised glyph
SHAPE_MARGIN = 0.02  # the best digit's likeness must beat the next digit's by this much


def _seen_digits(writing: _Writing) -> str:
    """The digits the glyphs look most like (and "." for a dot; "?" where no digit is clearly the likest)."""
    out = []
    for g in writing.glyphs:
        if g.dot:
            out.append(".")
            continue
        vector = _normalised(np.isin(writing.labels[g.y0:g.y1, g.x0:g.x1], g.members))
        templates, digits = _digit_templates()
        if not digits:
            return ""
        likeness = templates @ vector
        best = {d: float(likeness[[i for i, x in enumerate(digits) if x == d]].max()) for d in set(digits)}
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        out.append(ranked[0][0] if ranked[0][1] - ranked[1][1] >= SHAPE_MARGIN else "?")
    return "".join(out)


def _normalised(glyph: Mask) -> npt.NDArray[np.float64]:
    """A glyph scaled to ``TEMPLATE_SIZE``'s height (width in proportion, centred), blurred, zero mean, unit length."""
    ys, xs = np.nonzero(glyph)
    tw, th = TEMPLATE_SIZE
    canvas = np.zeros((th, tw), dtype=np.float32)
    if xs.size:
        glyph = glyph[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        h, w = glyph.shape
        scale = min(th / h, tw / w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(glyph.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        x0, y0 = (tw - size[0]) // 2, (th - size[1]) // 2
        canvas[y0:y0 + size[1], x0:x0 + size[0]] = small
    blurred = np.asarray(cv2.GaussianBlur(canvas, (5, 5), 1.2), dtype=np.float64).ravel()
    blurred -= blurred.mean()
    norm = float(np.linalg.norm(blurred))
    return blurred / norm if norm > 0 else blurred


@functools.lru_cache(maxsize=1)
def _digit_templates() -> tuple[npt.NDArray[np.float64], tuple[str, ...]]:
    """Each digit in each template font, plain and bolder, upright and slanted either way: normalised vectors."""
    from PIL import ImageDraw, ImageFont

    vectors: list[npt.NDArray[np.float64]] = []
    digits: list[str] = []
    for path in TEMPLATE_FONTS:
        if not os.path.exists(path):
            continue
        font = ImageFont.truetype(path, 48)
        for ch in "0123456789":
            for stroke in (0, 2):
                for shear in (-0.2, 0.0, 0.15):
                    image = Image.new("L", (96, 96), 0)
                    ImageDraw.Draw(image).text((24, 16), ch, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
                    image = image.transform(image.size, Image.Transform.AFFINE, (1, shear, -shear * 48, 0, 1, 0),
                                            resample=Image.Resampling.BILINEAR)
                    vectors.append(_normalised(np.asarray(image) > 127))
                    digits.append(ch)
    if not vectors:
        return np.zeros((0, TEMPLATE_SIZE[0] * TEMPLATE_SIZE[1])), ()
    return np.vstack(vectors), tuple(digits)


def _narrow(g: _Glyph) -> bool:
    """A glyph no digit but a 1 can be: a stroke (the likeness of a 1 depends on its flag and foot)."""
    return (g.x1 - g.x0) < ONE_NARROW * (g.y1 - g.y0)


def _loops(glyph: Mask, share: float = 0.0) -> str:
    """The closed loops of a glyph (of at least ``share`` of its box), top to bottom: "u", "m" or "l" each."""
    h, w = glyph.shape
    background = np.pad(~glyph, 1, constant_values=True).astype(np.uint8)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(background, connectivity=4)
    border = labels[0, 0]
    minimum = max(LOOP_MIN_PX, LOOP_MIN_SHARE * h * w, share * h * w)
    out = []
    for i in sorted(range(1, n), key=lambda k: float(centroids[k][1])):
        if i == border or stats[i, cv2.CC_STAT_AREA] < minimum:
            continue
        y = (float(centroids[i][1]) - 1) / max(1, h)
        out.append("u" if y < 0.42 else "l" if y > 0.58 else "m")
    return "".join(out)


def _characters(raw: str, kind: FieldKind) -> str:
    """An OCR reading of digits or a date, folded to half-width and without spaces."""
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"\s+", "", text)
    if kind == "digits":  # as a person writes a quantity: no leading zero (a lost decimal point shows as one),
        # no trailing zero after the point (a speck taken for one shows as one)
        return text if re.fullmatch(r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?", text) else ""
    return text if re.fullmatch(r"(?:[0-9]{4}[/年])?[0-9]{1,2}[/月][0-9]{1,2}日?", text) else ""


def _month_day(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(?:[0-9]{4}[/年])?([0-9]{1,2})[/月]([0-9]{1,2})日?", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _fits_glyphs(text: str, glyphs: Sequence[_Glyph], kind: FieldKind) -> bool:
    """One character per glyph, and (digits) the decimal points exactly where the dot glyphs are."""
    if len(text) != len(glyphs):
        return False
    return kind != "digits" or all((ch == ".") == g.dot for ch, g in zip(text, glyphs, strict=True))
