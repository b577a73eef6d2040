"""Where everything of a fax-back form is on the page, in millimetres: ``FormGeometry`` and its parts.

The template that prints a form draws exactly this and the reader reads it back
with the same object; ``FAXBACK_FORM`` is the invitation letter's. Pure data (no
OpenCV), so the workflows that draw forms import it cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np
import numpy.typing as npt

from parsers.intent import Intent


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


FieldKind = Literal["text", "latin", "digits", "date", "tick"]


@dataclass(frozen=True)
class FormField:
    """A field the partner writes in, outlined ``box_line`` thick with its outer edge on ``rect``.

    ``kind`` says how it is read: "text" (Japanese, else English), "latin" (English
    only: an email address or a phone number, where Japanese OCR makes up kanji),
    "digits" (a quantity: digits and a decimal point, e.g. 3, 12, 2.5), "date" (month
    and day: 11/25, 11月25日, 2026/11/25) or "tick" (a square ticked or left empty: its
    text is "yes" when ticked). ``label`` is where its printed label is, if near.
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


def inside(rect: Rect, point: tuple[float, float]) -> bool:
    return rect.x <= point[0] <= rect.right and rect.y <= point[1] <= rect.bottom


def in_any(rects: Sequence[Rect], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which points (mm) lie in one of ``rects``."""
    found = np.zeros(x.shape, dtype=bool)
    for r in rects:
        found |= (x >= r.x) & (x <= r.right) & (y >= r.y) & (y <= r.bottom)
    return found


def rect_distance(rect: Rect, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Distance (mm) of points to a rectangle, 0 inside."""
    dx = np.maximum(np.maximum(rect.x - x, x - rect.right), 0.0)
    dy = np.maximum(np.maximum(rect.y - y, y - rect.bottom), 0.0)
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)
