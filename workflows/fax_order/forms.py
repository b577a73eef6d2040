"""The buyer's own order form: issued for a (buyer, supplier) pair, and its rows read back as order lines.

A form lists the supplier's products as they were when it was issued
(``BuyerForm.product_ids``, in row order), so a row faxed back names its product
surely, whatever the catalog has become since; the PDF is
``workflows.order_documents.rendering.render_buyer_form``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.faxorder.readings import Field, ItemLine
from parsers.products import ProductMatch
from workflows.catalog.lookup import products_of
from workflows.config import Settings
from workflows.db import Database
from workflows.errors import InvalidRequest, NotFound
from workflows.fax_order.matching import line_json
from workflows.models import Buyer, BuyerForm, Product, Supplier
from workflows.order_documents.references import buyer_form_reference
from workflows.order_documents.rendering import render_buyer_form
from workflows.order_documents.sheets import BuyerFormSheet

log = logging.getLogger(__name__)


def sheet_of(session: Session, settings: Settings, form: BuyerForm) -> BuyerFormSheet:
    """The form as it was printed: its rows are the products it was issued with, in that order."""
    buyer, supplier = session.get(Buyer, form.buyer_id), session.get(Supplier, form.supplier_id)
    assert buyer is not None and supplier is not None
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(form.product_ids)))}
    rows = tuple((p.name, p.unit, p.unit_price, p.note[:40]) if (p := products.get(pid)) else ("—", "", None, "")
                 for pid in form.product_ids)
    return BuyerFormSheet(form_id=form.id, buyer_name=buyer.name, buyer_fax=buyer.fax, supplier_name=supplier.name,
                          fax_to=settings.fax_number or "", rows=rows, language=form.language)


def form_spec(db: Database, settings: Settings, form_id: int) -> BuyerFormSheet | None:
    """What the form reader needs of the form a page's code names (its rows), or None."""
    with db.sessions() as session:
        form = session.get(BuyerForm, form_id)
        return sheet_of(session, settings, form) if form is not None else None


def issue_form(session: Session, settings: Settings, supplier_id: int,
               body: Mapping[str, Any]) -> tuple[BuyerForm, bytes]:
    """A new order form for the supplier's buyer, listing the supplier's products as they are now."""
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    products = products_of(session, supplier.id)
    if not products:
        raise InvalidRequest(f"{supplier.name} has no products to put on a form")
    language = str(body.get("language") or "ja")
    if language not in ("ja", "en"):
        raise InvalidRequest("language must be ja or en")
    form = BuyerForm(buyer_id=supplier.buyer_id, supplier_id=supplier.id, product_ids=[p.id for p in products],
                     language=language)
    session.add(form)
    session.flush()
    pdf = render_buyer_form(sheet_of(session, settings, form), reference=buyer_form_reference(form.id,
                                                                                               settings.secret_key))
    log.info("order form %s issued: supplier %s, %s products", form.id, supplier.id, len(products))
    return form, pdf


def form_lines(session: Session, form_reading: Any,
               catalog: Sequence[Product]) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """A form's rows as order lines, its other fields, and the doubts the reading already has."""
    form = session.get(BuyerForm, form_reading.form_id)
    product_ids = list(form.product_ids) if form is not None else []
    by_id = {p.id: p for p in catalog}
    lines: list[dict[str, Any]] = []
    doubts = list(form_reading.reasons)
    if form_reading.missing_pages:
        doubts.append(f"page(s) {', '.join(map(str, form_reading.missing_pages))} of the order form are missing")
    for row, value in sorted(form_reading.quantities.items()):
        product = by_id.get(product_ids[row - 1]) if 0 < row <= len(product_ids) else None
        name = product.name if product else f"row {row}"
        item = Field(name, name if product else None, 1.0 if product else 0.0, value.page, tuple(value.box),
                     None if product else f"row {row} names no product any more")
        match = ProductMatch(product.id, product.name, 1.0, "form") if product else \
            ProductMatch(None, "", 0.0, "none", reason=f"row {row} of the form names no product")
        lines.append({**line_json(len(lines) + 1, ItemLine(item, _field(value)), match, product), "row": row})
    fields: dict[str, Any] = {}
    if form_reading.delivery_date is not None:
        fields["delivery_date"] = _field(form_reading.delivery_date).as_json()
    return lines, fields, doubts


def _field(read: Any) -> Field:
    """A field the form reader read, as a free-form reading's field (its box a tuple)."""
    return Field(read.text, read.value, read.confidence, read.page, tuple(read.box), read.reason)
