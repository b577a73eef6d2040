"""read_order_fax: a faxed-back order sheet (発注書), read from its page images.

The order sheet (``workflows.order_documents``) is a fax-back form on every page
(``parsers.faxform``): three boxes, 受注します (confirm), 欠品あり (partial),
お受けできません (decline); a delivery date field (納品日); a deliverable-quantity
field (納品可能数) at the end of each line of the table; a QR code and a printed
code naming the order and the page. This module reads the pages the supplier sent
back, whichever of them and in whatever order, and says what they answer:

- ``order_id``: the order all the pages name; pages of two orders name none.
- ``answer``: the one box ticked, on any page; a second box, different boxes on two
  pages, or a box with a doubtful mark give None, and so does no box at all.
- ``quantities``: line position → the quantity written in its field, for the fields
  with writing that was read for sure (two OCR passes agreeing, one character per
  glyph); a field written but not read is a reason, never a guess.
- ``delivery_date``: the date written, a year-less one taken as the next such day on
  or after the order's date (in Tokyo).
- ``confidence``: the answer's, lowered below the review bar (0.8) whenever what is
  written does not fit it: a partial answer with a quantity unreadable, missing, or
  more than ordered, or with pages of the sheet missing; a confirmation with
  quantities that differ from the order (then no answer at all); a decline with
  quantities; a date written but unreadable.

Pure: page images and the order's lines in, a reading out; it never raises.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Protocol

from PIL import Image

from parsers.dates import TOKYO
from parsers.faxform.geometry import FormGeometry
from parsers.faxform.ocr import Ocr
from parsers.faxform.reader import read_form
from parsers.faxform.readings import FieldReading, FormReading, ReferenceCheck

__all__ = ["OrderForm", "OrderFaxReading", "OrderedLine", "OrderedSheet", "REVIEW_BAR", "page_png", "read_order_fax",
           "resolve_month_day"]

log = logging.getLogger(__name__)

REVIEW_BAR = 0.8  # below this, a person looks (the gateway's usual bar)
UNSURE = 0.6  # what a reading is worth when its writing does not fit its answer
MAX_PAGES = 20
LATEST_DELIVERY_DAYS = 62  # a delivery date further off than this after the order is taken for a misreading


class OrderedLine(Protocol):
    """What the reader needs of an order line (``workflows.order_documents.sheets.SheetLine`` has it)."""

    @property
    def position(self) -> int: ...

    @property
    def quantity(self) -> Decimal: ...


class OrderedSheet(Protocol):
    """What the reader needs of an order, its lines in sheet order (``workflows.order_documents.sheets.OrderSheet``)."""

    @property
    def ordered_at(self) -> datetime: ...

    @property
    def lines(self) -> Sequence[OrderedLine]: ...


@dataclass(frozen=True)
class OrderForm:
    """A paged order form as printed: its geometry, the fields of a page's rows, and how its codes read.

    The order sheet is one (``workflows.order_documents.fax_forms.order_fax_form``), a buyer's
    order form another (``buyer_fax_form``, read by ``parsers.buyerform``). ``identify``
    gives (ID, page) for a page's code; ``check`` is the reference check handed to
    ``read_form`` (the code as printed, or None).
    """

    geometry: FormGeometry
    lines_per_page: int
    quantity_fields: tuple[str, ...]  # row 0, 1, ... of a page
    date_field: str
    identify: Callable[[str], tuple[int, int] | None]
    check: ReferenceCheck
    notes_field: str | None = None  # a free-text field for notes, if the form has one


@dataclass(frozen=True)
class OrderFaxReading:
    """What the faxed-back pages of an order sheet say, how sure the reading is and why.

    ``quantities`` and ``quantity_confidence`` are by line position, for the fields with
    writing read for sure. ``field_pngs`` holds the crops of what was written, for the
    operator: ``quantity:<position>``, ``delivery_date``, ``contact`` (with ``:p<page>``
    appended when another page has the same field). ``pages`` are the page numbers of
    the sheet found, in the order received; ``page_count`` how many the sheet has.
    """

    order_id: int | None
    answer: str | None  # "confirm" | "partial" | "decline"
    confidence: float
    reasons: tuple[str, ...]
    quantities: Mapping[int, Decimal] = field(default_factory=dict)
    quantity_confidence: Mapping[int, float] = field(default_factory=dict)
    delivery_date: date | None = None
    delivery_date_text: str | None = None
    page_pngs: tuple[bytes, ...] = ()
    field_pngs: Mapping[str, bytes] = field(default_factory=dict)
    contact_text: str | None = None
    pages: tuple[int, ...] = ()
    page_count: int | None = None


def read_order_fax(pages: Sequence[Image.Image], form: OrderForm,
                   order_for: Callable[[int], OrderedSheet | None], *, ocr: Ocr | None = None,
                   read_contact: bool = True) -> OrderFaxReading:
    """Read the pages of a fax (``parsers.imaging.pages_from_attachment``) as a returned order sheet.

    ``order_for`` gives the order a page names (its lines in sheet order and its
    date), or None if there is no such order: a mapping's ``get`` will do. Pages that
    are not an order sheet (a cover page) are skipped, with a reason. Never raises.
    """
    try:
        return _read(pages, form, order_for, ocr, read_contact)
    except Exception as exc:  # a worker must never crash on a fax
        log.exception("order fax: unexpected failure")
        return OrderFaxReading(None, None, 0.0, (f"fax could not be read: {type(exc).__name__}: {exc}",))


@dataclass(frozen=True)
class _Page:
    index: int  # 1-based, in the fax
    number: int  # the sheet's page
    reading: FormReading


def _read(images: Sequence[Image.Image], form: OrderForm, order_for: Callable[[int], OrderedSheet | None],
          ocr: Ocr | None, read_contact: bool) -> OrderFaxReading:
    reasons: list[str] = []
    if len(images) > MAX_PAGES:
        reasons.append(f"only the first {MAX_PAGES} of {len(images)} pages were read")
    page_pngs = tuple(page_png(image) for image in images[:MAX_PAGES])
    found: list[_Page] = []
    orders: dict[int, None] = {}
    for index, image in enumerate(images[:MAX_PAGES], start=1):
        reading = read_form(image, form.geometry, reference_check=form.check, read_contact=read_contact, ocr=ocr)
        ident = form.identify(reading.reference) if reading.reference else None
        if ident is None:
            why = "; ".join(reading.reasons) or "no code"
            reasons.append(f"fax page {index}: no order sheet found ({why})")
            continue
        orders[ident[0]] = None
        found.append(_Page(index, ident[1], reading))
    if not found:
        return OrderFaxReading(None, None, 0.0, tuple(reasons) or ("no pages",), page_pngs=page_pngs)
    if len(orders) > 1:
        reasons.append("the pages name different orders: " + ", ".join(str(o) for o in orders))
        return OrderFaxReading(None, None, 0.0, tuple(reasons), page_pngs=page_pngs,
                               pages=tuple(p.number for p in found))
    order_id = next(iter(orders))
    sheet = order_for(order_id)
    if sheet is None:
        reasons.append(f"order {order_id} is not known")
        return OrderFaxReading(order_id, None, 0.0, tuple(reasons), page_pngs=page_pngs,
                               pages=tuple(p.number for p in found))
    return _Answer(form, sheet, found, reasons).result(order_id, page_pngs)


class _Answer:
    """The pages of one order, put together: answer, quantities, date, and how sure."""

    def __init__(self, form: OrderForm, sheet: OrderedSheet, pages: list[_Page], reasons: list[str]) -> None:
        self.form = form
        self.sheet = sheet
        self.pages = pages
        self.reasons = reasons
        self.confidence = 1.0
        self.lines = list(sheet.lines)
        self.page_count = max(1, -(-len(self.lines) // form.lines_per_page))
        self.field_pngs: dict[str, bytes] = {}
        self.date_unclear = False

    def result(self, order_id: int, page_pngs: tuple[bytes, ...]) -> OrderFaxReading:
        answer = self._answer()
        quantities, certainty, unreadable, stray = self._quantities()
        delivery, delivery_text = self._delivery_date()
        answer = self._weigh(answer, quantities, unreadable, stray, delivery_text, delivery)
        contact = next((p.reading.contact_text for p in self.pages if p.reading.contact_text), None)
        for page in self.pages:
            if page.reading.contact_image and page.reading.contact_text:
                self._keep("contact", page, page.reading.contact_image)
        return OrderFaxReading(
            order_id=order_id, answer=answer, confidence=round(self.confidence, 3), reasons=tuple(self.reasons),
            quantities=MappingProxyType(quantities), quantity_confidence=MappingProxyType(certainty),
            delivery_date=delivery, delivery_date_text=delivery_text, page_pngs=page_pngs,
            field_pngs=MappingProxyType(self.field_pngs), contact_text=contact,
            pages=tuple(p.number for p in self.pages), page_count=self.page_count)

    def _lower(self, value: float, reason: str) -> None:
        self.confidence = min(self.confidence, value)
        self.reasons.append(reason)

    def _keep(self, name: str, page: _Page, png: bytes) -> None:
        key = name if name not in self.field_pngs else f"{name}:p{page.number}"
        self.field_pngs[key] = png

    # -- the box ------------------------------------------------------------------------------

    def _answer(self) -> str | None:
        """The one answer all pages with a mark give; None if a mark is unclear, answers differ or none is given."""
        numbers = [p.number for p in self.pages]
        for number in sorted(set(numbers)):
            if numbers.count(number) > 1:
                self.reasons.append(f"page {number} came {numbers.count(number)} times")
        extra = sorted({n for n in numbers if n > self.page_count})
        if extra:
            self._lower(0.3, f"page {', '.join(map(str, extra))} is not a page of this order "
                             f"(its sheet has {self.page_count})")
        answers: dict[str, list[int]] = {}
        unclear = []
        for page in self.pages:
            r = page.reading
            self.confidence = min(self.confidence, r.confidence if r.answer else 1.0)
            if r.answer is not None:
                answers.setdefault(r.answer, []).append(page.number)
            elif not r.blank:
                unclear.append(page)
        if unclear:
            for page in unclear:
                box = [r for r in page.reading.reasons if "marked" in r or "ink" in r] or list(page.reading.reasons)
                self.reasons.append(f"page {page.number}: " + "; ".join(box))
            self.confidence = min(self.confidence, 0.2)
            return None
        if len(answers) > 1:
            self._lower(0.2, "the pages answer differently: " + ", ".join(
                f"{a} on page {', '.join(map(str, n))}" for a, n in answers.items()))
            return None
        if not answers:
            self._lower(0.1, "no box marked")
            return None
        answer = next(iter(answers))
        self.reasons.append(f"{answer} marked on page {', '.join(map(str, answers[answer]))}")
        return answer

    # -- the fields ---------------------------------------------------------------------------

    def _quantities(self) -> tuple[dict[int, Decimal], dict[int, float], dict[int, str], list[str]]:
        """Quantities read for sure, by line position; lines written but unreadable (why); writing off the lines."""
        quantities: dict[int, Decimal] = {}
        certainty: dict[int, float] = {}
        unreadable: dict[int, str] = {}
        stray: list[str] = []
        per_page = self.form.lines_per_page
        for page in self.pages:
            for row, name in enumerate(self.form.quantity_fields):
                reading = page.reading.fields.get(name)
                if reading is None or not reading.written:
                    continue
                index = (page.number - 1) * per_page + row
                if index >= len(self.lines):
                    stray.append(f"page {page.number} row {row + 1}")
                    continue
                position = self.lines[index].position
                self._keep(f"quantity:{position}", page, reading.image)
                value = _quantity(reading)
                if value is None:
                    unreadable[position] = reading.reason or "not readable"
                elif position in quantities and quantities[position] != value:
                    unreadable[position] = f"read {quantities.pop(position)} and {value} on two copies of the page"
                    certainty.pop(position, None)
                elif position not in unreadable:
                    quantities[position] = value
                    certainty[position] = reading.confidence
        return quantities, certainty, unreadable, stray

    def _delivery_date(self) -> tuple[date | None, str | None]:
        """The delivery date written (on any page; pages must agree), resolved against the order's date."""
        ordered_on = self.sheet.ordered_at.astimezone(TOKYO).date()
        found: list[tuple[date | None, str | None, int]] = []
        for page in self.pages:
            reading = page.reading.fields.get(self.form.date_field)
            if reading is None or not reading.written:
                continue
            self._keep("delivery_date", page, reading.image)
            if reading.text is None:
                found.append((None, None, page.number))
                self.reasons.append(f"delivery date written on page {page.number}, but not read: "
                                    f"{reading.reason or 'unreadable'}")
                continue
            day = resolve_month_day(reading.text, ordered_on)
            if day is None:
                self.reasons.append(f"delivery date {reading.text!r} on page {page.number} is not a date")
            found.append((day, reading.text, page.number))
        if not found:
            return None, None
        days = {d for d, _, _ in found}
        if len(days) > 1 or None in days:
            if len(days) > 1 and None not in days:
                self.reasons.append("the pages give different delivery dates: "
                                    + ", ".join(f"{t} (page {n})" for _, t, n in found))
            self.date_unclear = True
            return None, next((t for _, t, _ in found if t), None)
        day, text, _ = found[0]
        if day is not None and day < ordered_on:
            self.reasons.append(f"delivery date {day.isoformat()} is before the order's date {ordered_on.isoformat()}")
            self.date_unclear = True
            return None, text
        if day is not None and (day - ordered_on).days > LATEST_DELIVERY_DAYS:
            self.reasons.append(f"delivery date {day.isoformat()} (written {text}) is more than "
                                f"{LATEST_DELIVERY_DAYS} days after the order: a misreading?")
            self.date_unclear = True
            return None, text
        return day, text

    # -- does it fit together ------------------------------------------------------------------

    def _weigh(self, answer: str | None, quantities: dict[int, Decimal], unreadable: dict[int, str],
               stray: list[str], delivery_text: str | None, delivery: date | None) -> str | None:
        """The answer as it stands with what is written beside it: lowered below the review bar if it does not fit."""
        ordered = {line.position: line.quantity for line in self.lines}
        if stray:
            self._lower(UNSURE, "writing in a quantity field without a line: " + ", ".join(stray))
        for position, why in sorted(unreadable.items()):
            self._lower(UNSURE, f"line {position}: quantity written but not read ({why})")
        if answer == "partial":
            if not quantities and not unreadable:
                self._lower(UNSURE, "partial, but no quantity written")
            over = [p for p, q in sorted(quantities.items()) if q > ordered[p]]
            for position in over:
                self._lower(UNSURE, f"line {position}: {quantities[position]} written, more than the "
                                    f"{ordered[position]} ordered")
            if quantities and not unreadable and all(q == ordered[p] for p, q in quantities.items()):
                self._lower(UNSURE, "partial, but every quantity written is the quantity ordered")
            missing = sorted(set(range(1, self.page_count + 1)) - {p.number for p in self.pages})
            if missing:
                self._lower(UNSURE, f"page {', '.join(map(str, missing))} of {self.page_count} not received: "
                                    "what can be delivered of its lines is not known")
            if quantities:
                self.reasons.append("quantities: " + ", ".join(f"line {p}: {q}" for p, q in sorted(quantities.items())))
        elif answer == "confirm":
            differ = [p for p, q in sorted(quantities.items()) if q != ordered[p]]
            if differ:
                self._lower(0.3, "confirm marked, but quantities differ from the order: " + ", ".join(
                    f"line {p}: {quantities[p]} written, {ordered[p]} ordered" for p in differ))
                return None
        elif answer == "decline":
            written = [p for p, q in sorted(quantities.items()) if q != 0]
            if written:
                self._lower(0.3, "decline marked, but quantities written: " + ", ".join(
                    f"line {p}: {quantities[p]}" for p in written))
                return None
        if self.date_unclear and answer in ("confirm", "partial"):
            self._lower(UNSURE + 0.1, "the delivery date is not clear")
        elif delivery is not None:
            self.reasons.append(f"delivery date {delivery.isoformat()} (written {delivery_text})")
        return answer


def _quantity(reading: FieldReading) -> Decimal | None:
    if reading.text is None:
        return None
    try:
        value = Decimal(reading.text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


_DATE = re.compile(r"(?:(\d{4})[/年])?(\d{1,2})[/月](\d{1,2})日?")


def resolve_month_day(text: str, on_or_after: date) -> date | None:
    """The date ``text`` names ("11/25", "11月25日", "2026/11/25"), else None (13/40, 2/30).

    A year-less date is the next such day on or after ``on_or_after``.
    """
    match = _DATE.fullmatch(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert month is not None and day is not None
    try:
        if year is not None:
            return date(year, month, day)
        for candidate_year in (on_or_after.year, on_or_after.year + 1, on_or_after.year + 2, on_or_after.year + 3,
                               on_or_after.year + 4):
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:  # 2/29 in a common year: the next leap year's
                continue
            if candidate >= on_or_after:
                return candidate
    except ValueError:
        return None
    return None


def page_png(image: Image.Image) -> bytes:
    """A page as received, as a 1-bit PNG (a fax page is black and white; it keeps the PNG small)."""
    out = io.BytesIO()
    page = image if image.mode == "1" else image.convert("L").point(lambda v: 255 if v >= 128 else 0, mode="1")
    dpi = image.info.get("dpi")
    page.save(out, "PNG", optimize=True, **({"dpi": dpi} if isinstance(dpi, tuple) else {}))
    return out.getvalue()
