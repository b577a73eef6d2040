"""The lines of a fax order matched to the supplier's products, and stored as the operator sees them.

Every field keeps its confidence and its place on the page. A line is sure when
the product it names is sure and every part of it is read surely (``line_doubts``
says why not); the quantity is stored in the unit the product is sold by
(``_in_product_unit``), converted when the sheet wrote another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from parsers.faxorder.readings import Field, FreeFormReading, ItemLine
from parsers.products import SURE, CatalogEntry, ProductMatch, item_key, match_product
from parsers.units import convert, unit_of
from workflows.models import Product


def entry_of(product: Product) -> CatalogEntry:
    return CatalogEntry(product.id, product.name, product.unit, product.unit_price)


def line_doubts(line: Mapping[str, Any], bar: float) -> list[str]:
    """Why a line as stored (``free_form_lines``) cannot be ordered without a person; none when it can."""
    doubts = [f"{name} unsure ({part['reason'] or part['text']!r})" for name in ("item", "quantity", "unit")
              if (part := line.get(name)) is not None and (part["value"] is None or part["confidence"] < bar)]
    product = line["product"]
    if product["product_id"] is None or product["reason"] or product["confidence"] < bar:
        doubts.append(product["reason"] or "product unsure")
    if line.get("unit_problem"):
        doubts.append(line["unit_problem"])
    return doubts


def free_form_lines(free: FreeFormReading, catalog: Sequence[Product],
                    aliases: Mapping[str, int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A free-form sheet's lines matched to the supplier's master, and its other fields, as stored."""
    entries = [entry_of(p) for p in catalog]
    by_id = {p.id: p for p in catalog}
    lines = []
    for position, line in enumerate(free.lines, 1):
        match, line = match_line(line, entries, aliases) if entries else \
            (ProductMatch(None, "", 0.0, "none", reason="no supplier to match the item against"), line)
        lines.append(line_json(position, line, match, by_id.get(match.product_id or -1)))
    fields = {name: value.as_json() for name, value in (
        ("delivery_date", free.delivery_date), ("buyer_name", free.buyer_name), ("buyer_fax", free.buyer_fax),
        ("supplier_name", free.supplier_name), ("note", free.note)) if value is not None}
    return lines, fields


def _sure(match: ProductMatch) -> bool:
    return match.product_id is not None and match.confidence >= SURE and not match.reason


def match_line(line: ItemLine, entries: Sequence[CatalogEntry],
               aliases: Mapping[str, int]) -> tuple[ProductMatch, ItemLine]:
    """The product the line names, and the line with the reading of its name that says so.

    When the first reading names no product surely, OCR's other readings of the same ink are tried: one
    product named surely by some of them, and no other by any, is taken (豆殴 read again 豆腐)."""
    first = match_product(written_name(line), entries, aliases)
    if _sure(first) or not line.item.alternatives:
        return first, line
    sure = [(text, match) for text in line.item.alternatives if _sure(match := match_product(text, entries, aliases))]
    if len({match.product_id for _, match in sure}) != 1:
        return first, line
    text, match = sure[0]
    return match, replace(line, item=replace(line.item, value=text))


def written_name(line: ItemLine) -> str:
    """The item's name as the sheet gives it, without a row number before it."""
    return line.item.value or line.item.text


def line_json(position: int, line: ItemLine, match: ProductMatch, product: Product | None) -> dict[str, Any]:
    quantity = line.quantity
    unit_problem = None
    product_unit = product.unit if product else ""
    if product is not None and quantity.value is not None:
        quantity, unit_problem = _in_product_unit(quantity, line.unit, product)
    item, unit = line.item, line.unit
    if product is not None and _sure(match):
        item = item.checked()  # a name the master knows is read right, however unsure the OCR was of it
        if unit is not None and _same_unit(unit.value, product.unit):
            unit = unit.checked()  # so is the unit the product is sold by: OCR does not make 袋 of ケース
    return {"position": position, "item": item.as_json(), "quantity": quantity.as_json(),
            "unit": unit.as_json() if unit else None, "product_unit": product_unit,
            "price": line.price.as_json() if line.price else None,
            "amount": line.amount.as_json() if line.amount else None,
            "product": match.as_json(), "unit_problem": unit_problem}


def _same_unit(written: str | None, sold_by: str) -> bool:
    a, b = unit_of(written or ""), unit_of(sold_by)
    return a is not None and b is not None and a.code == b.code


def _in_product_unit(quantity: Field, written: Field | None, product: Product) -> tuple[Field, str | None]:
    """The quantity in the unit the product is sold by, or why it cannot be."""
    if written is None or written.value is None or not product.unit:
        return quantity, None
    sold_by, wrote = unit_of(product.unit), unit_of(written.value)
    if sold_by is None or wrote is None:
        same = item_key(written.value) == item_key(product.unit)
        return quantity, None if same else f"written in {written.value}, {product.name} is sold by {product.unit}"
    if sold_by.code == wrote.code:
        return quantity, None
    assert quantity.value is not None
    converted = convert(Decimal(quantity.value), wrote, sold_by)
    if converted is None:
        return quantity, f"written in {written.value}, {product.name} is sold by {product.unit}"
    return Field(quantity.text, str(converted), quantity.confidence, quantity.page, quantity.box,
                 f"{quantity.value}{written.value} = {converted}{product.unit}"), None
