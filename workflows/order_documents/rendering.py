"""The order's documents rendered: the order sheet, the buyer's order form and the delivery note, as PDF.

Jinja2 templates from ``templates/orders/`` (autoescaped: names and notes come from
partners and are never markup), laid out by WeasyPrint fetching nothing
(``workflows.letters.pdf_from_html``), with local fonts only (IPAexGothic, DejaVu Sans
Mono), embedded. The paged forms are laid out by ``workflows.order_documents.geometry``.

Text that does not fit its place is clipped with "…", never wrapped into the next:
a product name or a note too long for its cell cannot reach the fields.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import ImageFont

from workflows.letters import _clip, _english_date, _japanese_date, _qr_data_uri, pdf_from_html
from workflows.mail import LANGUAGES, TEMPLATES_DIR
from workflows.order_documents.geometry import (
    BUYER_FORM_GEOMETRY,
    LINES_PER_PAGE,
    ORDER_FORM_GEOMETRY,
    FormPageGeometry,
)
from workflows.order_documents.sheets import BuyerFormSheet, OrderSheet, SheetLine, SheetParty, in_tokyo
from workflows.references import page_code

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template: names and notes come from partners and are never markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _language(language: str) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]


def _pdf(template: str, context: Mapping[str, Any]) -> tuple[bytes, float]:
    """The template rendered to PDF, and the milliseconds WeasyPrint took (what the logs watch)."""
    html = _environment().get_template(template).render(context)
    started = time.perf_counter()
    pdf = pdf_from_html(html)
    return pdf, (time.perf_counter() - started) * 1000


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
    local = in_tokyo(moment)
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


def _pages(reference: str, rows: tuple[_Row, ...] | tuple[_FormRow, ...], count: int,
           g: FormPageGeometry) -> list[_Page]:
    """A paged form's ``count`` pages, ``LINES_PER_PAGE`` rows each, with its code in clear and in its QR code."""
    chunks = [rows[n * LINES_PER_PAGE:(n + 1) * LINES_PER_PAGE] for n in range(count)]
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

    ``reference`` (see ``workflows.order_documents.references.order_reference``) names
    the order in each page's code (QR code and clear text); ``reply_address`` is where
    the supplier may answer by mail, ``fax_number`` where it faxes the sheet back (each
    left out of the text when None). Japanese unless ``sheet.language`` is "en". Raises
    ValueError for a malformed reference or a naive ``ordered_at``.
    """
    _check_reference(reference)
    language = _language(sheet.language)
    g = ORDER_FORM_GEOMETRY
    pages = _pages(reference, tuple(_row(line) for line in sheet.lines), sheet.pages, g)
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
    pdf, ms = _pdf(f"orders/sheet.{language}.html", context)
    log.info("order %s: order sheet (%s, %d lines, %d pages) rendered in %.0f ms, %d bytes", sheet.order_id,
             language, len(sheet.lines), len(pages), ms, len(pdf))
    return pdf


def render_buyer_form(sheet: BuyerFormSheet, *, reference: str) -> bytes:
    """The buyer's order form (注文書) for one supplier as a PDF: ``sheet.pages`` A4 pages of ``LINES_PER_PAGE`` rows.

    Every page is a whole form: the supplier, the fax number to send it to, the buyer,
    the desired-delivery-date field, its share of the supplier's products (No., name,
    unit, unit price, note) each with an empty quantity field, the notes field, and
    the page's code (``reference``, see ``workflows.order_documents.references``) in
    clear and in a QR code. Rows past the last product keep their field (the outlines
    locate the form), with nothing printed beside it. Japanese unless
    ``sheet.language`` is "en". Raises ValueError for a malformed reference.
    """
    _check_reference(reference)
    language = _language(sheet.language)
    g = BUYER_FORM_GEOMETRY
    room = {key: g.column(key).width - 2.5 for key in ("product", "unit", "note")}  # less the cell's padding
    rows = tuple(_FormRow(position=str(n), product=_fit(name, room["product"], CELL["product"][1]),
                          unit=_fit(unit, room["unit"], CELL["unit"][1]), price=_money(price),
                          note=_fit(note, room["note"], CELL["note"][1]))
                 for n, (name, unit, price, note) in enumerate(sheet.rows, start=1))
    pages = _pages(reference, rows, sheet.pages, g)
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
    pdf, ms = _pdf(f"orders/buyer_form.{language}.html", context)
    log.info("buyer form %s: order form (%s, %d rows, %d pages) rendered in %.0f ms, %d bytes", sheet.form_id,
             language, len(sheet.rows), len(pages), ms, len(pdf))
    return pdf


def render_delivery_note(sheet: OrderSheet, *, shipped_on: date) -> bytes:
    """The delivery note (納品書) as a PDF: from the supplier to the buyer, the quantities to deliver.

    Each line's quantity is its ``delivered_quantity`` when set (what the supplier
    confirmed), else the quantity ordered; amounts follow. As many A4 pages as the
    lines need, the table's head repeated on each.
    """
    language = _language(sheet.language)
    context = {
        **_context(sheet, language),
        "rows": [_row(line, delivered=True) for line in sheet.lines],
        "totals": _totals(sheet.lines, delivered=True),
        "shipped_on": _date(shipped_on, language),
    }
    pdf, ms = _pdf(f"orders/delivery_note.{language}.html", context)
    log.info("order %s: delivery note (%s, %d lines) rendered in %.0f ms, %d bytes", sheet.order_id, language,
             len(sheet.lines), ms, len(pdf))
    return pdf
