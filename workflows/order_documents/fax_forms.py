"""The paged forms as the fax-back readers in ``parsers`` take them: geometry, rows, and the codes' check.

``order_fax_form`` is the order sheet as ``parsers.orderform.read_order_fax`` reads it,
``buyer_fax_form`` the buyer's order form as ``parsers.buyerform.read_buyer_form`` does;
both are drawn from ``workflows.order_documents.geometry``, the numbers the templates
print by. ``parsers.faxform`` needs OpenCV, so it is imported only when a form is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from workflows.letters import Box
from workflows.order_documents.geometry import (
    ANSWERS,
    BUYER_FORM_GEOMETRY,
    DATE_FIELD,
    LINES_PER_PAGE,
    NOTES_FIELD,
    ORDER_FORM_GEOMETRY,
    FormPageGeometry,
    quantity_field_name,
)
from workflows.order_documents.references import FORM_REFERENCES, ORDER_REFERENCES
from workflows.references import ReferenceScheme, page_code

if TYPE_CHECKING:
    from parsers.faxform.geometry import AnswerBox, FormField, FormGeometry, Rect
    from parsers.orderform import OrderForm


def _rect(box: Box) -> Rect:
    from parsers.faxform.geometry import Rect

    return Rect(box.x, box.y, box.width, box.height)


def _reader_geometry(g: FormPageGeometry, *, heading: Box, fields: Sequence[FormField], other_print: Sequence[Box],
                     boxes: Sequence[AnswerBox] = (), contact: Box | None = None,
                     contact_label: Box | None = None) -> FormGeometry:
    """A paged form's page as ``read_form`` reads it: the skeleton, the rows' quantity fields, and ``fields``."""
    from parsers.faxform.geometry import FormField, FormGeometry, Rect

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
def order_form_geometry() -> FormGeometry:
    """``ORDER_FORM_GEOMETRY`` as ``parsers.faxform.reader.read_form`` takes it."""
    from parsers.faxform.geometry import AnswerBox, FormField

    g = ORDER_FORM_GEOMETRY
    labels = {"confirm": "受注します", "partial": "欠品あり", "decline": "お受けできません"}
    return _reader_geometry(
        g, heading=g.heading, fields=[FormField(DATE_FIELD, _rect(g.date), "date", _rect(g.date_label))],
        other_print=(g.title, g.parties, g.delivery, g.totals, g.form_note),
        boxes=tuple(AnswerBox(key, _rect(g.choices[key]), _rect(g.choice_labels[key]), labels[key])
                    for key in ANSWERS),
        contact=g.contact, contact_label=g.contact_label)


@lru_cache(maxsize=1)
def buyer_form_geometry() -> FormGeometry:
    """``BUYER_FORM_GEOMETRY`` as ``parsers.faxform.reader.read_form`` takes it (and ``samples.faxsim`` fills it)."""
    from parsers.faxform.geometry import FormField

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

