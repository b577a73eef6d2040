"""The order's documents: the order sheet (発注書) with its fax-back block, and the delivery note (納品書).

Plain data in (``OrderSheet``: the order as it was when ordered), PDF bytes out; no
database. Rendered by WeasyPrint from ``templates/orders/`` (autoescaped), fetching
nothing (``workflows.letters.pdf_from_html``), with local fonts only (IPAexGothic,
DejaVu Sans Mono), embedded.

The order sheet is A4 portrait, ``LINES_PER_PAGE`` lines a page; a longer order
takes more pages, each a whole form on its own: the same header (buyer, supplier,
number, dates, delivery address, note), its share of the lines, and at the bottom
the fax-back block. A page faxed back alone still names its order and its page:

    registration marks ■ in the page's four corners (the marks span the whole page,
        so the lines table is read with the same precision as the block)
    □ 受注します (confirm)  □ 欠品あり (partial)  □ お受けできません (decline)
    納品日 (delivery date) and ご担当者 (the supplier's person), fields to write in
    納品可能数 (deliverable quantity): a field at the end of every line of the table,
        at a fixed row, written in only when something is short
    the QR code and, printed in clear below it, the page's code:
        ``TORII-ORD-<id>-<check>-<page, 2 digits><page check>``, e.g. ``TORII-ORD-123-K7M2PX-01A``

``ORDER_FORM_GEOMETRY`` says where each of those is, in millimetres from the page's
top-left corner; the template is drawn from the same numbers and
``order_form_geometry()`` hands them to ``parsers.faxform`` (``order_fax_form`` to
``parsers.orderform.read_order_fax``, with the codes' check). The order part of the
code is :func:`order_reference` (an HMAC of the order ID, like the invitations'
references); the page part is checked by one character that needs no secret: it
catches an OCR misreading of the page number, not a forgery (a forged page of a
genuine order gains nothing the supplier could not write).

The buyer's order form (注文書, ``render_buyer_form``) is the same kind of page, the
other way round: the gateway prints it for a (buyer, supplier) pair, one of the
supplier's products per row, and the buyer writes quantities and faxes it to the
gateway. Every page has the same skeleton as the order sheet (registration marks,
title band, a table whose last column holds a written field per row, the QR code and
the page's code, ``TORII-FRM-<form id>-<check>-<page><page check>``); instead of the
answer boxes it has a desired-delivery-date field (納品希望日) above the table and a
notes field (備考) below it. ``BUYER_FORM_GEOMETRY`` says where; ``buyer_fax_form`` hands
it to ``parsers.buyerform.read_buyer_form``. Its rows are 8 mm high, not 7: every row
may be written in, and the room the answer boxes and the totals take on the order
sheet goes to the writing; it keeps the order sheet's ``LINES_PER_PAGE`` rows a page.

Text that does not fit its place is clipped with "…", never wrapped into the next:
a product name or a note too long for its cell cannot reach the fields.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import ImageFont

from workflows.clock import TOKYO
from workflows.letters import Box, _clip, _english_date, _japanese_date, _qr_data_uri, pdf_from_html
from workflows.mail import LANGUAGES, TEMPLATES_DIR
from workflows.references import ReferenceScheme, page_code

if TYPE_CHECKING:
    from parsers.faxform import AnswerBox, FormField, FormGeometry, Rect
    from parsers.orderform import OrderForm

__all__ = [
    "ANSWERS",
    "BUYER_FORM_GEOMETRY",
    "DATE_FIELD",
    "LINES_PER_PAGE",
    "NOTES_FIELD",
    "ORDER_FORM_GEOMETRY",
    "BuyerFormGeometry",
    "BuyerFormSheet",
    "FormPageGeometry",
    "OrderSheet",
    "OrderSheetGeometry",
    "SheetLine",
    "SheetParty",
    "buyer_fax_form",
    "buyer_form_geometry",
    "buyer_form_reference",
    "order_fax_form",
    "order_form_geometry",
    "order_reference",
    "page_code",
    "parse_buyer_form_page_code",
    "parse_buyer_form_reference",
    "parse_order_reference",
    "parse_page_code",
    "quantity_field_name",
    "render_buyer_form",
    "render_delivery_note",
    "render_order_sheet",
]

log = logging.getLogger(__name__)

ANSWERS = ("confirm", "partial", "decline")


# --- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLine:
    """One line of the order as printed: ``unit_price`` in yen, tax excluded (None: not known)."""

    position: int
    product_name: str
    quantity: Decimal
    unit: str
    unit_price: int | None
    note: str = ""
    delivered_quantity: Decimal | None = None  # what the delivery note says will be delivered

    @property
    def amount(self) -> int | None:
        """quantity × unit price, rounded half up to the yen; None without a price."""
        return None if self.unit_price is None else _yen(self.quantity * self.unit_price)

    @property
    def to_deliver(self) -> Decimal:
        return self.quantity if self.delivered_quantity is None else self.delivered_quantity

    @property
    def delivered_amount(self) -> int | None:
        return None if self.unit_price is None else _yen(self.to_deliver * self.unit_price)


@dataclass(frozen=True)
class SheetParty:
    company: str
    person: str = ""
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""


@dataclass(frozen=True)
class OrderSheet:
    """The order as its documents print it: as it was when ordered (names included)."""

    order_id: int
    number: str  # e.g. "PO-2026-000123"
    ordered_at: datetime  # aware; printed in Asia/Tokyo
    orderer_name: str
    buyer: SheetParty
    supplier: SheetParty
    delivery: SheetParty  # the delivery address (お届け先)
    desired_date: date | None
    note: str
    lines: tuple[SheetLine, ...]
    language: str = "ja"

    @property
    def ordered_on(self) -> date:
        """The order's date in Tokyo."""
        return _tokyo(self.ordered_at).date()

    @property
    def pages(self) -> int:
        """How many pages the order sheet takes: ``LINES_PER_PAGE`` lines each, at least one."""
        return max(1, -(-len(self.lines) // LINES_PER_PAGE))


@dataclass(frozen=True)
class BuyerFormSheet:
    """A buyer's order form for one supplier as printed: row n (1-based) orders ``rows[n - 1]``.

    ``rows`` are (product name, unit, unit price in yen tax excluded or None, note);
    ``fax_to`` is the number the buyer faxes the form to (the gateway's fax-order line).
    """

    form_id: int
    buyer_name: str
    buyer_fax: str
    supplier_name: str
    fax_to: str
    rows: tuple[tuple[str, str, int | None, str], ...]
    language: str = "ja"

    @property
    def pages(self) -> int:
        """How many pages the form takes: ``LINES_PER_PAGE`` rows each, at least one."""
        return max(1, -(-len(self.rows) // LINES_PER_PAGE))


def _yen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _tokyo(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("ordered_at must be timezone-aware")
    return moment.astimezone(TOKYO)


# --- the order sheet's layout -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # "position", "product", "quantity", "unit", "price", "amount", "note", "deliverable"
    x: float
    width: float


@dataclass(frozen=True, kw_only=True)
class FormPageGeometry:
    """What every page of our paged forms has, in mm from the top-left corner of A4 portrait.

    ``marks`` are four solid squares in the page's corners, nothing within 2 mm of
    them. The table has ``rows`` rows of ``row_height`` from ``first_row_y``, in
    ``columns``; the ``field_column`` holds each row's written quantity field
    (``quantity_field``), an outline ``box_line`` wide inside the cell. Nothing is
    printed within ``qr_quiet_zone`` of the QR code; ``reference`` holds the page's
    code in clear.
    """

    field_column: ClassVar[str]

    page: Box
    marks: tuple[Box, Box, Box, Box]
    title: Box
    parties: Box
    table_head: Box
    columns: tuple[Column, ...]
    first_row_y: float
    row_height: float
    rows: int
    qr: Box
    qr_quiet_zone: float
    reference: Box
    reference_font: float
    box_line: float
    field_inset: float = 0.5  # a quantity field's outline, inside its cell

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def table(self) -> Box:
        """The whole lines table, head included."""
        left, right = self.columns[0].x, self.columns[-1].x + self.columns[-1].width
        bottom = self.first_row_y + self.rows * self.row_height
        return Box(left, self.table_head.y, right - left, bottom - self.table_head.y)

    def row(self, index: int) -> Box:
        """Row ``index`` (0-based) of the table."""
        t = self.table
        return Box(t.x, self.first_row_y + index * self.row_height, t.width, self.row_height)

    def quantity_field(self, index: int) -> Box:
        """Row ``index``'s quantity field: the outline's outer edge."""
        column = self.column(self.field_column)
        i = self.field_inset
        return Box(column.x + i, self.first_row_y + index * self.row_height + i, column.width - 2 * i,
                   self.row_height - 2 * i)


@dataclass(frozen=True, kw_only=True)
class OrderSheetGeometry(FormPageGeometry):
    """Where everything of an order sheet's page is (``FormPageGeometry``, and the fax-back block).

    Every page is laid out alike; the field column holds each line's deliverable
    quantity. The answer boxes and their labels keep 12 mm left and right and 6 mm
    above and below clear of other print (circles are read there).
    """

    field_column: ClassVar[str] = "deliverable"

    delivery: Box
    totals: Box
    heading: Box
    confirm: Box
    confirm_label: Box
    partial: Box
    partial_label: Box
    decline: Box
    decline_label: Box
    date_label: Box
    date: Box
    contact_label: Box
    contact: Box
    form_note: Box

    @property
    def choices(self) -> dict[str, Box]:
        return {"confirm": self.confirm, "partial": self.partial, "decline": self.decline}

    @property
    def choice_labels(self) -> dict[str, Box]:
        return {"confirm": self.confirm_label, "partial": self.partial_label, "decline": self.decline_label}


MARK = 5.0
LINES_PER_PAGE = 18
_BOX = 10.0


def _choice(x: float) -> tuple[Box, Box]:
    return Box(x, 230.0, _BOX, _BOX), Box(x + _BOX + 2.0, 230.0, 32.0, _BOX)


def _columns(widths: Sequence[tuple[str, float]]) -> tuple[Column, ...]:
    out, x = [], 14.0
    for key, width in widths:
        out.append(Column(key, x, width))
        x += width
    return tuple(out)


_ORDER_COLUMNS = (("position", 8.0), ("product", 50.0), ("quantity", 16.0), ("unit", 12.0), ("price", 19.0),
                  ("amount", 22.0), ("note", 29.0), ("deliverable", 26.0))
# the skeleton every paged form shares: a page faxed back is located and named the same way
_PAGE = Box(0.0, 0.0, 210.0, 297.0)
_MARKS = (Box(9.0, 9.0, MARK, MARK), Box(196.0, 9.0, MARK, MARK), Box(196.0, 283.0, MARK, MARK),
          Box(9.0, 283.0, MARK, MARK))
_TITLE = Box(16.0, 16.0, 178.0, 11.0)
_QR = Box(168.0, 246.0, 24.0, 24.0)
_REFERENCE = Box(130.0, 274.0, 64.0, 6.0)

_CONFIRM, _CONFIRM_LABEL = _choice(22.0)
_PARTIAL, _PARTIAL_LABEL = _choice(78.0)
_DECLINE, _DECLINE_LABEL = _choice(134.0)

ORDER_FORM_GEOMETRY = OrderSheetGeometry(
    page=_PAGE,
    marks=_MARKS,
    title=_TITLE,
    parties=Box(14.0, 29.0, 182.0, 28.0),
    delivery=Box(14.0, 59.0, 182.0, 16.0),
    table_head=Box(14.0, 77.0, 182.0, 7.0),
    columns=_columns(_ORDER_COLUMNS),
    first_row_y=84.0,
    row_height=7.0,
    rows=LINES_PER_PAGE,
    totals=Box(14.0, 211.0, 182.0, 6.0),
    heading=Box(22.0, 219.0, 170.0, 5.0),
    confirm=_CONFIRM,
    confirm_label=_CONFIRM_LABEL,
    partial=_PARTIAL,
    partial_label=_PARTIAL_LABEL,
    decline=_DECLINE,
    decline_label=_DECLINE_LABEL,
    date_label=Box(22.0, 246.0, 15.0, 12.0),
    date=Box(38.0, 246.0, 50.0, 12.0),
    contact_label=Box(93.0, 246.0, 19.0, 12.0),
    contact=Box(113.0, 246.0, 45.0, 12.0),
    form_note=Box(22.0, 261.0, 138.0, 12.0),
    qr=_QR,
    qr_quiet_zone=4.0,
    reference=_REFERENCE,
    reference_font=3.5,
    box_line=0.5,
)


@dataclass(frozen=True, kw_only=True)
class BuyerFormGeometry(FormPageGeometry):
    """Where everything of a buyer's order form page is (``FormPageGeometry``, and its two other fields).

    The field column holds each row's quantity; the desired-delivery-date field
    (``date``, its label left of it) sits between the parties and the table, beside
    the instructions (``heading``); the notes field (``notes``) below the table.
    """

    field_column: ClassVar[str] = "quantity"

    date_label: Box
    date: Box
    heading: Box
    notes_label: Box
    notes: Box
    form_note: Box


BUYER_FORM_GEOMETRY = BuyerFormGeometry(
    page=_PAGE,
    marks=_MARKS,
    title=_TITLE,
    parties=Box(14.0, 29.0, 182.0, 22.0),
    date_label=Box(16.0, 54.0, 26.0, 12.0),
    date=Box(44.0, 54.0, 50.0, 12.0),
    heading=Box(100.0, 54.0, 96.0, 12.0),
    table_head=Box(14.0, 69.0, 182.0, 7.0),
    columns=_columns((("position", 8.0), ("product", 78.0), ("unit", 14.0), ("price", 20.0), ("note", 32.0),
                      ("quantity", 30.0))),
    first_row_y=76.0,
    row_height=8.0,
    rows=LINES_PER_PAGE,
    notes_label=Box(14.0, 223.0, 146.0, 5.0),
    notes=Box(14.0, 229.0, 146.0, 28.0),
    form_note=Box(14.0, 260.0, 112.0, 20.0),
    qr=_QR,
    qr_quiet_zone=4.0,
    reference=_REFERENCE,
    reference_font=3.5,
    box_line=0.5,
)

# What the partner writes in, by field name (parsers.faxform.FormField.name).
DATE_FIELD = "delivery_date"
NOTES_FIELD = "notes"


def quantity_field_name(row: int) -> str:
    """The field of row ``row`` (0-based) of a page's lines table."""
    return f"quantity_{row + 1:02d}"


def order_form_geometry() -> FormGeometry:
    """``ORDER_FORM_GEOMETRY`` as ``parsers.faxform.read_form`` takes it (imported on demand: it needs OpenCV)."""
    return _form_geometry()


def buyer_form_geometry() -> FormGeometry:
    """``BUYER_FORM_GEOMETRY`` as ``parsers.faxform.read_form`` takes it (and ``samples.faxsim`` fills it)."""
    return _buyer_geometry()


def _rect(box: Box) -> Rect:
    from parsers.faxform import Rect

    return Rect(box.x, box.y, box.width, box.height)


def _reader_geometry(g: FormPageGeometry, *, heading: Box, fields: Sequence[FormField], other_print: Sequence[Box],
                     boxes: Sequence[AnswerBox] = (), contact: Box | None = None,
                     contact_label: Box | None = None) -> FormGeometry:
    """A paged form's page as ``read_form`` reads it: the skeleton, the rows' quantity fields, and ``fields``."""
    from parsers.faxform import FormField, FormGeometry, Rect

    table = g.table
    column = g.column(g.field_column)
    rows = [FormField(quantity_field_name(i), _rect(g.quantity_field(i)), "digits") for i in range(g.rows)]
    return FormGeometry(
        page_size=(g.page.width, g.page.height),
        marks=(g.marks[0].center, g.marks[1].center, g.marks[2].center, g.marks[3].center),
        mark_size=g.marks[0].width,
        boxes=tuple(boxes),
        qr=_rect(g.qr),
        reference_text=_rect(g.reference),
        heading=_rect(heading),
        fields=(*fields, *rows),
        # the header and the table but the fields' column: their print is the form's own
        other_print=(*(_rect(b) for b in other_print), Rect(table.x, table.y, column.x - table.x, table.height),
                     _rect(Box(column.x, g.table_head.y, column.width, g.table_head.height))),
        contact=_rect(contact) if contact else None,
        contact_label=_rect(contact_label) if contact_label else None,
        box_line=g.box_line,
        qr_quiet_zone=g.qr_quiet_zone,
    )


@lru_cache(maxsize=1)
def _form_geometry() -> FormGeometry:
    from parsers.faxform import AnswerBox, FormField

    g = ORDER_FORM_GEOMETRY
    labels = {"confirm": "受注します", "partial": "欠品あり", "decline": "お受けできません"}
    return _reader_geometry(
        g, heading=g.heading, fields=[FormField(DATE_FIELD, _rect(g.date), "date", _rect(g.date_label))],
        other_print=(g.title, g.parties, g.delivery, g.totals, g.form_note),
        boxes=tuple(AnswerBox(key, _rect(g.choices[key]), _rect(g.choice_labels[key]), labels[key])
                    for key in ANSWERS),
        contact=g.contact, contact_label=g.contact_label)


@lru_cache(maxsize=1)
def _buyer_geometry() -> FormGeometry:
    from parsers.faxform import FormField

    g = BUYER_FORM_GEOMETRY
    return _reader_geometry(
        g, heading=g.heading,
        fields=[FormField(DATE_FIELD, _rect(g.date), "date", _rect(g.date_label)),
                FormField(NOTES_FIELD, _rect(g.notes), "text", _rect(g.notes_label))],
        other_print=(g.title, g.parties, g.form_note))


def _fax_form(scheme: ReferenceScheme, geometry: FormGeometry, secret: bytes,
              notes_field: str | None = None) -> OrderForm:
    """A paged form as ``parsers.orderform`` reads it: geometry, the rows' fields, and its page codes' check."""
    from parsers.orderform import OrderForm

    def identify(text: str) -> tuple[int, int] | None:
        return scheme.parse_page_code(text, secret)

    def check(text: str) -> str | None:
        found = scheme.parse_page_code(text, secret)
        return page_code(scheme.make(found[0], secret), found[1]) if found else None

    return OrderForm(geometry=geometry, lines_per_page=LINES_PER_PAGE,
                     quantity_fields=tuple(quantity_field_name(i) for i in range(LINES_PER_PAGE)),
                     date_field=DATE_FIELD, identify=identify, check=check, notes_field=notes_field)


def order_fax_form(secret: bytes) -> OrderForm:
    """The order sheet as ``parsers.orderform.read_order_fax`` reads it: geometry, rows, and the codes' check."""
    return _fax_form(ORDER_REFERENCES, order_form_geometry(), secret)


def buyer_fax_form(secret: bytes) -> OrderForm:
    """The buyer's order form as ``parsers.buyerform.read_buyer_form`` reads it (rows, date, notes, codes)."""
    return _fax_form(FORM_REFERENCES, buyer_form_geometry(), secret, NOTES_FIELD)


# --- references -------------------------------------------------------------------------------

ORDER_REFERENCES = ReferenceScheme("ORD", "torii-order-reference")
FORM_REFERENCES = ReferenceScheme("FRM", "torii-form-reference")


def order_reference(order_id: int, secret: bytes) -> str:
    """``TORII-ORD-<id>-<check>``: as for invitations (``workflows.references``)."""
    return ORDER_REFERENCES.make(order_id, secret)


def parse_order_reference(text: str, secret: bytes) -> int | None:
    """The order ID of the first genuine order reference in ``text``, else None; a page code names its order too."""
    return ORDER_REFERENCES.parse_any(text, secret)


def parse_page_code(text: str, secret: bytes) -> tuple[int, int] | None:
    """(order ID, page) of the first genuine order sheet page code in ``text`` (``page_code``), else None."""
    return ORDER_REFERENCES.parse_page_code(text, secret)


def buyer_form_reference(form_id: int, secret: bytes) -> str:
    """``TORII-FRM-<id>-<check>``: names a buyer's order form (``workflows.models.BuyerForm``)."""
    return FORM_REFERENCES.make(form_id, secret)


def parse_buyer_form_reference(text: str, secret: bytes) -> int | None:
    """The form ID of the first genuine form reference (or form page code) in ``text``, else None."""
    return FORM_REFERENCES.parse_any(text, secret)


def parse_buyer_form_page_code(text: str, secret: bytes) -> tuple[int, int] | None:
    """(form ID, page) of the first genuine page code of a buyer's order form in ``text``, else None."""
    return FORM_REFERENCES.parse_page_code(text, secret)


# --- rendering --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template: names and notes come from partners and are never markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Room for text, in full-width characters at the size the template sets it (see letters._clip).
CLIP = {"party": 19.0, "party_small": 28.0, "order_note": 21.0, "name": 20.0}
# The table's cells: room (mm, the column less its padding) and the size the template sets them in (pt).
CELL = {"product": (47.5, 8.5), "unit": (9.5, 8.5), "note": (26.5, 7.0)}


def _one_line(text: str, width: float) -> str:
    return _clip(" ".join((text or "").split()), lines=1, width=width)


GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"  # what the templates set text in
PT = 25.4 / 72  # mm per point


@lru_cache(maxsize=1)
def _gothic() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(GOTHIC, 100)


def _fit(text: str, mm: float, pt: float) -> str:
    """``text`` on one line, cut with "…" to ``mm`` wide in IPAex Gothic at ``pt``: measured, not estimated."""
    text = " ".join((text or "").split())
    scale = pt * PT / 100

    def width(s: str) -> float:
        return float(_gothic().getlength(s)) * scale

    if width(text) <= mm:
        return text
    cut = text
    while cut and width(cut.rstrip() + "…") > mm:
        cut = cut[:-1]
    return cut.rstrip() + "…" if cut else ""


def _quantity(value: Decimal) -> str:
    """A quantity as written by hand: 3, 2.5, 0.25 (no exponent, no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _datetime(moment: datetime, language: str) -> str:
    local = _tokyo(moment)
    day = _japanese_date(local.date()) if language == "ja" else _english_date(local.date())
    return f"{day} {local:%H:%M}" + ("" if language == "ja" else " JST")


def _date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    return _japanese_date(day) if language == "ja" else _english_date(day)


@dataclass(frozen=True)
class _Row:
    position: str
    product: str
    quantity: str
    unit: str
    price: str
    amount: str
    note: str


@dataclass(frozen=True)
class _FormRow:
    """A row of the buyer's order form as printed."""

    position: str
    product: str
    unit: str
    price: str
    note: str


@dataclass(frozen=True)
class _Page:
    number: int
    code: str
    reference_font: float
    qr: str
    rows: tuple[_Row, ...] | tuple[_FormRow, ...]
    last: bool


def _pages(reference: str, chunks: Sequence[tuple[_Row, ...] | tuple[_FormRow, ...]],
           g: FormPageGeometry) -> list[_Page]:
    """A paged form's pages, each with its code in clear and in its QR code."""
    pages = []
    for number, rows in enumerate(chunks, start=1):
        code = page_code(reference, number)
        pages.append(_Page(
            number=number, code=code,
            # DejaVu Sans Mono advances 0.602 em: long codes set smaller to fit their box
            reference_font=round(min(g.reference_font, g.reference.width / (0.602 * len(code))), 2),
            qr=_qr_data_uri(code), rows=rows, last=number == len(chunks)))
    return pages


@dataclass(frozen=True)
class _Totals:
    total: str  # of the lines with a price
    unpriced: int  # lines without one
    lines: int


def _row(line: SheetLine, *, delivered: bool = False) -> _Row:
    quantity = line.to_deliver if delivered else line.quantity
    amount = line.delivered_amount if delivered else line.amount
    return _Row(
        position=str(line.position), product=_fit(line.product_name, *CELL["product"]),
        quantity=_quantity(quantity), unit=_fit(line.unit, *CELL["unit"]), price=_money(line.unit_price),
        amount=_money(amount), note=_fit(line.note, *CELL["note"]))


def _totals(lines: Sequence[SheetLine], *, delivered: bool = False) -> _Totals:
    amounts = [line.delivered_amount if delivered else line.amount for line in lines]
    return _Totals(total=_money(sum(a for a in amounts if a is not None)),
                   unpriced=sum(a is None for a in amounts), lines=len(lines))


def _party(party: SheetParty) -> dict[str, str]:
    return {
        "company": _one_line(party.company, CLIP["party"]),
        "person": _one_line(party.person, CLIP["name"]),
        "postal_code": _one_line(party.postal_code, 10),
        "address": _one_line(party.address, CLIP["party_small"]),
        "phone": _one_line(party.phone, 16),
        "fax": _one_line(party.fax, 16),
        "email": _one_line(party.email, 30),
    }


def _context(sheet: OrderSheet, language: str) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "number": _one_line(sheet.number, 24),
        "ordered_at": _datetime(sheet.ordered_at, language),
        "ordered_on": _date(sheet.ordered_on, language),
        "desired_date": _date(sheet.desired_date, language),
        "orderer": _one_line(sheet.orderer_name, CLIP["name"]),
        "buyer": _party(sheet.buyer),
        "supplier": _party(sheet.supplier),
        "delivery": _party(sheet.delivery),
        "note": _clip(sheet.note, lines=3, width=CLIP["order_note"]),
    }


def _check_reference(reference: str) -> None:
    if not re.fullmatch(r"[A-Z0-9\-]{1,60}", reference):
        raise ValueError("reference must be upper-case letters, digits and dashes (see order_reference)")


def render_order_sheet(sheet: OrderSheet, *, reference: str, reply_address: str | None,
                       fax_number: str | None) -> bytes:
    """The order sheet (発注書) as a PDF: ``sheet.pages`` A4 pages, each with its fax-back block.

    ``reference`` (see :func:`order_reference`) names the order in each page's code
    (QR code and clear text); ``reply_address`` is where the supplier may answer by
    mail, ``fax_number`` where it faxes the sheet back (each left out of the text when
    None). Japanese unless ``sheet.language`` is "en". Raises ValueError for a
    malformed reference or a naive ``ordered_at``.
    """
    _check_reference(reference)
    language = sheet.language if sheet.language in LANGUAGES else LANGUAGES[0]
    g = ORDER_FORM_GEOMETRY
    pages = _pages(reference, [tuple(_row(line) for line in sheet.lines[n * LINES_PER_PAGE:(n + 1) * LINES_PER_PAGE])
                               for n in range(sheet.pages)], g)
    context = {
        **_context(sheet, language),
        "pages": pages,
        "page_count": len(pages),
        "totals": _totals(sheet.lines),
        "reference": reference,
        "reply_address": reply_address,
        "fax_number": fax_number,
        "g": g,
    }
    html = _environment().get_template(f"orders/sheet.{language}.html").render(context)
    started = time.perf_counter()
    pdf = pdf_from_html(html)
    log.info("order %s: order sheet (%s, %d lines, %d pages) rendered in %.0f ms, %d bytes", sheet.order_id,
             language, len(sheet.lines), len(pages), (time.perf_counter() - started) * 1000, len(pdf))
    return pdf


def render_buyer_form(sheet: BuyerFormSheet, *, reference: str) -> bytes:
    """The buyer's order form (注文書) for one supplier as a PDF: ``sheet.pages`` A4 pages of ``LINES_PER_PAGE`` rows.

    Every page is a whole form: the supplier, the fax number to send it to, the buyer,
    the desired-delivery-date field, its share of the supplier's products (No., name,
    unit, unit price, note) each with an empty quantity field, the notes field, and
    the page's code (``reference``, see :func:`buyer_form_reference`) in clear and in
    a QR code. Rows past the last product keep their field (the outlines locate the
    form), with nothing printed beside it. Japanese unless ``sheet.language`` is "en".
    Raises ValueError for a malformed reference.
    """
    _check_reference(reference)
    language = sheet.language if sheet.language in LANGUAGES else LANGUAGES[0]
    g = BUYER_FORM_GEOMETRY
    room = {key: g.column(key).width - 2.5 for key in ("product", "unit", "note")}  # less the cell's padding
    rows = tuple(_FormRow(position=str(n), product=_fit(name, room["product"], CELL["product"][1]),
                          unit=_fit(unit, room["unit"], CELL["unit"][1]), price=_money(price),
                          note=_fit(note, room["note"], CELL["note"][1]))
                 for n, (name, unit, price, note) in enumerate(sheet.rows, start=1))
    pages = _pages(reference, [rows[n * LINES_PER_PAGE:(n + 1) * LINES_PER_PAGE] for n in range(sheet.pages)], g)
    context = {
        "sheet": sheet,
        "supplier": _one_line(sheet.supplier_name, CLIP["party"]),
        "buyer": _one_line(sheet.buyer_name, CLIP["party"]),
        "buyer_fax": _one_line(sheet.buyer_fax, 16),
        "fax_to": _one_line(sheet.fax_to, 16),
        "pages": pages,
        "page_count": len(pages),
        "reference": reference,
        "g": g,
    }
    html = _environment().get_template(f"orders/buyer_form.{language}.html").render(context)
    started = time.perf_counter()
    pdf = pdf_from_html(html)
    log.info("buyer form %s: order form (%s, %d rows, %d pages) rendered in %.0f ms, %d bytes", sheet.form_id,
             language, len(sheet.rows), len(pages), (time.perf_counter() - started) * 1000, len(pdf))
    return pdf


def render_delivery_note(sheet: OrderSheet, *, shipped_on: date) -> bytes:
    """The delivery note (納品書) as a PDF: from the supplier to the buyer, the quantities to deliver.

    Each line's quantity is its ``delivered_quantity`` when set (what the supplier
    confirmed), else the quantity ordered; amounts follow. As many A4 pages as the
    lines need, the table's head repeated on each.
    """
    language = sheet.language if sheet.language in LANGUAGES else LANGUAGES[0]
    context = {
        **_context(sheet, language),
        "rows": [_row(line, delivered=True) for line in sheet.lines],
        "totals": _totals(sheet.lines, delivered=True),
        "shipped_on": _date(shipped_on, language),
    }
    html = _environment().get_template(f"orders/delivery_note.{language}.html").render(context)
    started = time.perf_counter()
    pdf = pdf_from_html(html)
    log.info("order %s: delivery note (%s, %d lines) rendered in %.0f ms, %d bytes", sheet.order_id, language,
             len(sheet.lines), (time.perf_counter() - started) * 1000, len(pdf))
    return pdf
