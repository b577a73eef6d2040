"""read_buyer_form: a buyer's order form (注文書) faxed to the gateway, read by position.

The gateway prints the form for one buyer and one supplier
(``workflows.order_documents.rendering.render_buyer_form``): the supplier's products one per
row, each with an empty quantity field, a desired-delivery-date field (納品希望日), a
notes field (備考), and on every page the registration marks, a QR code and the
page's code ``TORII-FRM-<form id>-<check>-<page><page check>``. The buyer writes
quantities and faxes pages back; row n of the form (over all its pages, 1-based)
orders the form's n-th product, so nothing is matched by name.

Reading, cheapest first, so that a fax that is no such form costs little:

1. Each page's QR code alone (``parsers.faxform.reference.find_reference``, no OCR): a page
   whose QR code is a genuine form page code is a page of the form; a page with any
   other code (an order sheet, a letter) is not.
2. No page's QR code names a form: the pages without any QR code (a fax can spoil
   one) are looked for the form's registration marks and printed outlines, and only
   where they are found is the printed code read by OCR. None found: ``None``, and
   the caller tries its other readers.
3. The pages of the form are read by ``parsers.faxform.reader.read_form`` (the order
   sheet's reader): the quantity fields, the date, the notes; each field's crop is
   kept for the review console.

What is written is never guessed. A field without ink (specks and toner spots
aside) is blank: the row is left out. A quantity is a value only when OCR's reading
is borne out by the glyphs written (see ``read_form``); writing that cannot be read so,
runs over the box's edge, sits beside the box, is in a row without a product, or
differs between two copies of a page, is kept with ``value=None`` or a low
confidence, and a reason. Pure: page images in, a reading out; it never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Protocol

from PIL import Image

from parsers.faxform.ocr import Ocr
from parsers.faxform.reader import read_form
from parsers.faxform.readings import FieldReading, FormReading
from parsers.faxform.reference import find_reference
from parsers.orderform import (
    LATEST_DELIVERY_DAYS,
    MAX_PAGES,
    REVIEW_BAR,
    UNSURE,
    OrderForm,
    page_png,
    resolve_month_day,
)

__all__ = ["BuyerFormReading", "BuyerFormSpec", "FieldValue", "MAX_QUANTITY", "read_buyer_form"]

log = logging.getLogger(__name__)

MAX_QUANTITY = Decimal(10_000)  # more than this in one row is more likely misread than meant
DOUBTFUL = 0.3  # what a value is worth when it has no product to order, or two copies disagree


class BuyerFormSpec(Protocol):
    """What the reader needs of a form, its rows in order (``workflows.order_documents.sheets.BuyerFormSheet``)."""

    @property
    def rows(self) -> Sequence[object]: ...


@dataclass(frozen=True)
class FieldValue:
    """One field as read: where it is, what was read, its normalized value, how sure, why not."""

    name: str  # "quantity_03", "delivery_date", "notes"
    page: int  # 1-based page of the fax
    box: tuple[float, float, float, float]  # x0, top, x1, bottom in mm on the form page
    text: str  # what OCR read ("" when blank or not read for sure)
    value: str | None  # "2.5" for quantities, ISO date for the date; None when blank or unreadable
    confidence: float  # 0..1
    reason: str | None  # why unsure
    png: bytes  # the field's crop, for the review console

    def as_json(self) -> dict[str, Any]:
        """The reading without its image, for a JSON column."""
        return {"name": self.name, "page": self.page, "box": [round(v, 1) for v in self.box], "text": self.text,
                "value": self.value, "confidence": round(self.confidence, 3), "reason": self.reason}


@dataclass(frozen=True)
class BuyerFormReading:
    """What the faxed pages of one buyer's order form say.

    ``quantities`` has only the rows with writing, or with ink that makes them unsure;
    a row whose ``value`` is None or whose ``confidence`` is under ``REVIEW_BAR`` needs
    a person. Rows past the form's products come with a reason (nothing is printed
    there to order). ``page_pngs`` has every page of the fax, in fax order, the form's
    pages turned upright. ``reasons`` is everything a person should look at (each
    unsure value's reason, pages missing, not read or not of the form, notes written,
    no quantity at all): empty when the reading can be acted on as it is.
    """

    form_id: int
    pages: tuple[int, ...]  # form page numbers seen (1-based), in fax order
    missing_pages: tuple[int, ...]  # form pages not in the fax
    quantities: Mapping[int, FieldValue]  # row number (1-based, over the whole form) → value
    delivery_date: FieldValue | None
    page_pngs: tuple[bytes, ...]
    reasons: tuple[str, ...]
    notes: FieldValue | None = None  # the notes field, when written (OCR of handwriting: a person reads it)
    unread_pages: tuple[int, ...] = ()  # of ``pages``: those whose code was read but not their rows

    @property
    def needs_review(self) -> bool:
        return bool(self.reasons)


def read_buyer_form(pages: Sequence[Image.Image], form: OrderForm,
                    form_for: Callable[[int], BuyerFormSpec | None], *, received_on: date,
                    ocr: Ocr | None = None) -> BuyerFormReading | None:
    """Read the pages of a fax (``parsers.imaging.pages_from_attachment``) as a buyer's order form.

    ``form`` is the form as printed (``workflows.order_documents.fax_forms.buyer_fax_form(secret)``:
    its geometry and its codes' check); ``form_for`` gives the form a code names (its
    rows), or None if there is none (a mapping's ``get`` will do). A year-less date is
    the next such day on or after ``received_on``, the day the fax arrived. None when
    no page is one of our order forms. Never raises.
    """
    seen: list[_Seen] = []
    try:
        seen = _identify(pages[:MAX_PAGES], form, ocr)
        if not any(s.form_id is not None for s in seen):
            return None
        return _Reading(pages, form, form_for, received_on, ocr, seen).result()
    except Exception as exc:  # a worker must never crash on a fax
        log.exception("buyer form: unexpected failure")
        form_id = next((s.form_id for s in seen if s.form_id is not None), None)
        if form_id is None:
            return None
        return BuyerFormReading(form_id, (), (), MappingProxyType({}), None, (),
                                (f"fax could not be read: {type(exc).__name__}: {exc}",))


@dataclass(frozen=True)
class _Seen:
    """What a first look at a fax page found: a page of a form, another code, or no code."""

    index: int  # 1-based, in the fax
    form_id: int | None = None
    number: int | None = None  # the form's page
    code: str | None = None  # a QR code that names no form of ours
    reading: FormReading | None = None  # when the page was looked at beyond its QR code (no field read)


def _identify(images: Sequence[Image.Image], form: OrderForm, ocr: Ocr | None) -> list[_Seen]:
    """Each page at a first look: its QR code alone, and only if none names a form, the pages without one."""
    seen: list[_Seen] = []
    for index, image in enumerate(images, start=1):
        code = find_reference(image)
        ident = form.identify(code) if code else None
        seen.append(_Seen(index, *ident) if ident else _Seen(index, code=code))
    if any(s.form_id is not None for s in seen):
        return seen
    for position, (image, page) in enumerate(zip(images, seen, strict=True)):
        if page.code is not None:  # another kind of code: something else of ours, or someone else's
            continue
        # the fax may have spoilt the QR code: the marks and outlines say whether the form is there, and
        # only then is its printed code read by OCR
        reading = read_form(image, form.geometry, reference_check=form.check, read_contact=False,
                            read_fields=False, ocr=ocr)
        ident = form.identify(reading.reference) if reading.reference else None
        seen[position] = _Seen(page.index, *ident, reading=reading) if ident else replace(page, reading=reading)
    return seen


@dataclass(frozen=True)
class _Page:
    index: int  # 1-based, in the fax
    number: int  # the form's page
    reading: FormReading


class _Reading:
    """The pages of one form, put together."""

    def __init__(self, images: Sequence[Image.Image], form: OrderForm,
                 form_for: Callable[[int], BuyerFormSpec | None], received_on: date, ocr: Ocr | None,
                 seen: list[_Seen]) -> None:
        self.images = images
        self.form = form
        self.received_on = received_on
        self.reasons: list[str] = []
        if len(images) > MAX_PAGES:
            self.reasons.append(f"only the first {MAX_PAGES} of {len(images)} pages were read")
        forms = [s.form_id for s in seen if s.form_id is not None]
        self.form_id = max(dict.fromkeys(forms), key=forms.count)  # the most pages; the first on a tie
        self.pages: list[_Page] = []  # read
        self.numbers: list[int] = []  # the form's pages in the fax, read or not, in fax order
        self.unread: list[int] = []
        for page in seen:
            self._look(page, images[page.index - 1], ocr)
        spec = form_for(self.form_id)
        if spec is None:
            self.reasons.append(f"form {self.form_id} is not known: its rows are not checked against its products")
        self.rows = len(spec.rows) if spec is not None else None

    def _look(self, page: _Seen, image: Image.Image, ocr: Ocr | None) -> None:
        """Read a page of the form in full; say why any other page is left out."""
        index = page.index
        if page.code is not None:
            self.reasons.append(f"fax page {index}: not a page of the form (its code is {page.code[:40]})")
            return
        if page.form_id is None and page.reading is not None:  # looked at already: no form there
            self.reasons.append(f"fax page {index}: not a page of the form ({'; '.join(page.reading.reasons)})")
            return
        if page.form_id is not None and page.form_id != self.form_id:
            self.reasons.append(f"fax page {index} is a page of another form ({page.form_id}): not read")
            return
        reading = read_form(image, self.form.geometry, reference_check=self.form.check, read_contact=False, ocr=ocr)
        ident = (page.form_id, page.number) if page.form_id is not None and page.number is not None else (
            self.form.identify(reading.reference) if reading.reference else None)
        if ident is None or ident[0] != self.form_id:
            self.reasons.append(f"fax page {index} is a page of another form ({ident[0]}): not read" if ident
                                else f"fax page {index}: not a page of the form "
                                     f"({'; '.join(reading.reasons) or 'no code'})")
            return
        self.numbers.append(ident[1])
        if not reading.located:  # its code read, but not where its fields are: they cannot be said blank
            self.unread.append(ident[1])
            self.reasons.append(f"fax page {index} is page {ident[1]} of the form, but the form was not found on it "
                                f"({'; '.join(reading.reasons)}): its rows were not read")
            return
        self.pages.append(_Page(index, ident[1], reading))

    def result(self) -> BuyerFormReading:
        page_count = max(1, -(-self.rows // self.form.lines_per_page)) if self.rows is not None else None
        numbers = self.numbers
        for number in sorted(set(numbers)):
            if numbers.count(number) > 1:
                self.reasons.append(f"page {number} came {numbers.count(number)} times")
        missing: tuple[int, ...] = ()
        if page_count is not None:
            extra = sorted({n for n in numbers if n > page_count})
            if extra:
                self.reasons.append(f"page {', '.join(map(str, extra))} is not a page of this form "
                                    f"(it has {page_count})")
            missing = tuple(sorted(set(range(1, page_count + 1)) - set(numbers)))
            if missing:
                self.reasons.append(f"page {', '.join(map(str, missing))} of {page_count} not received")
        quantities = self._quantities()
        delivery = self._delivery_date()
        notes = self._notes()
        if not quantities:
            self.reasons.append("no quantity written")
        upright = {p.index: p.reading for p in self.pages}
        page_pngs = tuple(page_png(_upright(image, upright.get(index)))
                          for index, image in enumerate(self.images[:MAX_PAGES], start=1))
        return BuyerFormReading(
            form_id=self.form_id, pages=tuple(numbers), missing_pages=missing,
            quantities=MappingProxyType(dict(sorted(quantities.items()))), delivery_date=delivery,
            page_pngs=page_pngs, reasons=tuple(self.reasons), notes=notes, unread_pages=tuple(self.unread))

    def _value(self, page: _Page, name: str, reading: FieldReading) -> FieldValue:
        rect = self.form.geometry.field_for(name).rect
        return FieldValue(name=name, page=page.index, box=(rect.x, rect.y, rect.right, rect.bottom),
                          text=reading.text or "", value=None, confidence=0.0, reason=reading.reason,
                          png=reading.image)

    # -- the rows -----------------------------------------------------------------------------

    def _quantities(self) -> dict[int, FieldValue]:
        out: dict[int, FieldValue] = {}
        for page in self.pages:
            for offset, name in enumerate(self.form.quantity_fields):
                reading = page.reading.fields.get(name)
                if reading is None or not (reading.written or reading.outside):
                    continue
                row = (page.number - 1) * self.form.lines_per_page + offset + 1
                value = self._quantity(page, name, reading, row)
                earlier = out.get(row)
                if earlier is not None and earlier.value != value.value:
                    value = replace(earlier, value=None, confidence=0.0, reason=(
                        f"row {row}: two copies of page {page.number} read {earlier.value or '?'} and "
                        f"{value.value or '?'}"))
                elif earlier is not None and earlier.confidence >= value.confidence:
                    value = earlier
                out[row] = value
        for row, value in sorted(out.items()):
            if value.value is None or value.confidence < REVIEW_BAR:
                self.reasons.append(value.reason or f"row {row}: not sure")
        return out

    def _quantity(self, page: _Page, name: str, reading: FieldReading, row: int) -> FieldValue:
        """A row's field: its quantity if read for sure, else None and why; lowered if anything does not fit."""
        base = self._value(page, name, reading)
        if not reading.written:  # nothing in the box, writing beside it
            return replace(base, confidence=DOUBTFUL, reason=f"row {row}: {reading.outside}, not in it")
        value = _normal_quantity(reading.text)
        if value is None:
            why = reading.reason or "not readable"
            if reading.text is not None:
                why = f"{reading.text!r} is not a quantity"
            return replace(base, reason=f"row {row}: {_bare(why, name)}")
        field_value = replace(base, value=value, confidence=reading.confidence, reason=None)
        doubts = []
        if reading.outside:
            doubts.append((UNSURE, reading.outside))
        if Decimal(value) > MAX_QUANTITY:
            doubts.append((UNSURE, f"{value} is more than {MAX_QUANTITY}: a misreading?"))
        if self.rows is not None and row > self.rows:
            doubts.append((DOUBTFUL, f"the form has no product in this row (it has {self.rows})"))
        if doubts:
            field_value = replace(field_value, confidence=min(reading.confidence, *(c for c, _ in doubts)),
                                  reason=f"row {row}: {value} read, but " + "; ".join(w for _, w in doubts))
        return field_value

    # -- the date and the notes ---------------------------------------------------------------

    def _delivery_date(self) -> FieldValue | None:
        """The date written (on any page; pages must agree), the next such day on or after the fax's."""
        found: list[FieldValue] = []
        for page in self.pages:
            reading = page.reading.fields.get(self.form.date_field)
            if reading is None or not (reading.written or reading.outside):
                continue
            found.append(self._date(page, reading))
        if not found:
            return None
        values = {f.value for f in found}
        if len(values) > 1:
            shown = ", ".join(f"{f.text or '?'} (fax page {f.page})" for f in found)
            first = replace(found[0], value=None, confidence=0.0,
                            reason=f"the pages give different delivery dates: {shown}")
            self.reasons.append(first.reason or "")
            return first
        best = max(found, key=lambda f: f.confidence)
        if best.value is None or best.confidence < REVIEW_BAR:
            self.reasons.append(best.reason or "delivery date: not sure")
        return best

    def _date(self, page: _Page, reading: FieldReading) -> FieldValue:
        name = self.form.date_field
        base = self._value(page, name, reading)
        if not reading.written:
            return replace(base, confidence=DOUBTFUL, reason=f"delivery date: {reading.outside}, not in its box")
        if reading.text is None:
            return replace(base, reason=f"delivery date: {_bare(reading.reason or 'written, not read', name)}")
        day = resolve_month_day(reading.text, self.received_on)
        if day is None:
            return replace(base, reason=f"delivery date {reading.text!r} is not a date")
        if day < self.received_on:
            return replace(base, reason=f"delivery date {day.isoformat()} is before the fax arrived "
                                        f"({self.received_on.isoformat()})")
        if day > self.received_on + timedelta(days=LATEST_DELIVERY_DAYS):
            return replace(base, reason=f"delivery date {day.isoformat()} (written {reading.text}) is more than "
                                        f"{LATEST_DELIVERY_DAYS} days after the fax: a misreading?")
        value = replace(base, value=day.isoformat(), confidence=reading.confidence, reason=None)
        if reading.outside:
            value = replace(value, confidence=min(value.confidence, UNSURE),
                            reason=f"delivery date {day.isoformat()} read, but {reading.outside}")
        return value

    def _notes(self) -> FieldValue | None:
        """The notes written: handwriting OCR reads unchecked, so a person reads them (the crop is kept)."""
        name = self.form.notes_field
        if name is None:
            return None
        written = [(p, r) for p in self.pages if (r := p.reading.fields.get(name)) is not None and r.written]
        if not written:
            return None
        page, reading = written[0]
        value = replace(self._value(page, name, reading), value=reading.text,
                        confidence=min(reading.confidence, UNSURE),
                        reason="notes written: " + (f"read as {reading.text!r}, unchecked" if reading.text
                                                    else "not readable by OCR"))
        self.reasons.append(value.reason or "")
        for other, _ in written[1:]:
            self.reasons.append(f"notes also written on fax page {other.index}")
        return value


def _normal_quantity(text: str | None) -> str | None:
    """A quantity as written, normalized ("2.50" → "2.5", "03" → "3"), or None if it is not one."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    normal = f"{value:f}"
    return normal.rstrip("0").rstrip(".") if "." in normal else normal


def _bare(reason: str, name: str) -> str:
    """A field reading's reason without its field's name in front (the row says which)."""
    return reason.removeprefix(f"{name}: ")


def _upright(image: Image.Image, reading: FormReading | None) -> Image.Image:
    """A page of the form turned as printed (skew included); any other page as received."""
    if reading is None or not reading.located:
        return image
    turn = reading.rotation + reading.skew_deg
    if abs(turn) < 0.05:
        return image
    gray = image.convert("L")
    upright = gray.rotate(-turn, resample=Image.Resampling.BICUBIC, fillcolor=255)
    upright.info = dict(image.info)
    return upright
