"""Where everything of a paged fax-back form's page is, in millimetres from the top-left corner of A4 portrait.

The order sheet (発注書) and the buyer's order form (注文書) share one skeleton, so a
page faxed back is located and named the same way whichever it is:

    registration marks ■ in the page's four corners (the marks span the whole page,
        so the lines table is read with the same precision as the fields)
    a title band, the parties, and a table of ``LINES_PER_PAGE`` rows whose last
        column holds a field per row, written in by hand
    the QR code and, printed in clear below it, the page's code

The order sheet adds the fax-back block: □ 受注します (confirm) □ 欠品あり (partial)
□ お受けできません (decline), 納品日 (delivery date) and ご担当者 (the supplier's person);
its field column is 納品可能数 (deliverable quantity), written in only when something is
short. The buyer's form has a desired-delivery-date field (納品希望日) above the table
and a notes field (備考) below it instead; its rows are 8 mm high, not 7, since every
row may be written in, and the room the answer boxes and the totals take on the order
sheet goes to the writing.

The templates are drawn from these numbers and ``workflows.order_documents.fax_forms``
hands the same numbers to the readers, so what is printed and what is read cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from workflows.letters import Box

ANSWERS = ("confirm", "partial", "decline")
MARK = 5.0
LINES_PER_PAGE = 18
_BOX = 10.0

# What the partner writes in, by field name (parsers.faxform.geometry.FormField.name).
DATE_FIELD = "delivery_date"
NOTES_FIELD = "notes"


def quantity_field_name(row: int) -> str:
    """The field of row ``row`` (0-based) of a page's lines table."""
    return f"quantity_{row + 1:02d}"


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
_SKELETON: dict[str, Any] = {
    "page": Box(0.0, 0.0, 210.0, 297.0),
    "marks": (Box(9.0, 9.0, MARK, MARK), Box(196.0, 9.0, MARK, MARK), Box(196.0, 283.0, MARK, MARK),
              Box(9.0, 283.0, MARK, MARK)),
    "title": Box(16.0, 16.0, 178.0, 11.0),
    "rows": LINES_PER_PAGE,
    "qr": Box(168.0, 246.0, 24.0, 24.0),
    "qr_quiet_zone": 4.0,
    "reference": Box(130.0, 274.0, 64.0, 6.0),
    "reference_font": 3.5,
    "box_line": 0.5,
}

_CONFIRM, _CONFIRM_LABEL = _choice(22.0)
_PARTIAL, _PARTIAL_LABEL = _choice(78.0)
_DECLINE, _DECLINE_LABEL = _choice(134.0)

ORDER_FORM_GEOMETRY = OrderSheetGeometry(
    **_SKELETON,
    parties=Box(14.0, 29.0, 182.0, 28.0),
    delivery=Box(14.0, 59.0, 182.0, 16.0),
    table_head=Box(14.0, 77.0, 182.0, 7.0),
    columns=_columns(_ORDER_COLUMNS),
    first_row_y=84.0,
    row_height=7.0,
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
    **_SKELETON,
    parties=Box(14.0, 29.0, 182.0, 22.0),
    date_label=Box(16.0, 54.0, 26.0, 12.0),
    date=Box(44.0, 54.0, 50.0, 12.0),
    heading=Box(100.0, 54.0, 96.0, 12.0),
    table_head=Box(14.0, 69.0, 182.0, 7.0),
    columns=_columns((("position", 8.0), ("product", 78.0), ("unit", 14.0), ("price", 20.0), ("note", 32.0),
                      ("quantity", 30.0))),
    first_row_y=76.0,
    row_height=8.0,
    notes_label=Box(14.0, 223.0, 146.0, 5.0),
    notes=Box(14.0, 229.0, 146.0, 28.0),
    form_note=Box(14.0, 260.0, 112.0, 20.0),
)
