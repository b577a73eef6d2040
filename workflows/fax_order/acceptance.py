"""Accepting a fax order: placing its order with the supplier, as read or as an operator corrected it.

What an operator corrects in a free-form sheet's item names is remembered as the
buyer's alias for the product (``ProductAlias``), so its next fax reads on its own.
Discarding is the other way out of review.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.products import alias_key
from workflows import order as orders
from workflows.catalog.lookup import addresses_of
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.fax_order.confirmation import send_confirmation
from workflows.fax_order.states import OBJECT_TYPE, fire
from workflows.models import (
    Buyer,
    FaxOrder,
    InboundMessage,
    InboundStatus,
    Product,
    ProductAlias,
    Supplier,
)
from workflows.order.placing import LineSpec
from workflows.timeline import record


def corrections_from_reading(reading: Mapping[str, Any]) -> dict[str, Any]:
    return {"lines": [{"position": line["position"], "product_id": line["product"]["product_id"],
                       "quantity": line["quantity"]["value"]} for line in reading.get("lines", [])],
            "delivery_date": (reading.get("fields", {}).get("delivery_date") or {}).get("value")}


def accept(session: Session, settings: Settings, fax_order: FaxOrder, body: Mapping[str, Any],
           *, operator: str = "an operator") -> None:
    """An operator's correction and acceptance: ``{lines?: [{product_id, quantity, item?}], delivery_date?,
    note?, buyer_id?, supplier_id?}``; what is left out is taken as read."""
    if fax_order.state != "needs_review":
        fire(session, settings, fax_order, "accept")  # raises: the table says why not
    if "buyer_id" in body:
        buyer = session.get(Buyer, body["buyer_id"]) if isinstance(body["buyer_id"], int) else None
        if buyer is None:
            raise InvalidRequest(f"buyer {body['buyer_id']!r} does not exist")
        fax_order.buyer_id = buyer.id
    if "supplier_id" in body:
        supplier = session.get(Supplier, body["supplier_id"]) if isinstance(body["supplier_id"], int) else None
        if supplier is None or supplier.buyer_id != fax_order.buyer_id:
            raise InvalidRequest(f"supplier {body['supplier_id']!r} is not one of the buyer's suppliers")
        fax_order.supplier_id = supplier.id
    merged = corrections_from_reading(fax_order.reading) | {k: v for k, v in body.items()
                                                              if k in ("lines", "delivery_date", "note")}
    place_accepted(session, settings, fax_order, merged, by=operator)
    row = session.get(InboundMessage, fax_order.inbound_id, with_for_update=True)
    if row is not None and row.status == InboundStatus.REVIEW:
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; accepted by {operator} as order {fax_order.order_id}"


def discard(session: Session, settings: Settings, fax_order: FaxOrder, reason: str) -> None:
    fire(session, settings, fax_order, "discard", reason or "not an order")
    row = session.get(InboundMessage, fax_order.inbound_id, with_for_update=True)
    if row is not None and row.status == InboundStatus.REVIEW:
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; discarded: {reason or 'not an order'}"


def place_accepted(session: Session, settings: Settings, fax_order: FaxOrder, body: Mapping[str, Any], *,
                   by: str) -> None:
    """The order placed from the fax order's lines as ``body`` gives them, and the buyer told."""
    buyer = session.get(Buyer, fax_order.buyer_id) if fax_order.buyer_id else None
    supplier = session.get(Supplier, fax_order.supplier_id) if fax_order.supplier_id else None
    if buyer is None or supplier is None:
        raise InvalidRequest("the fax order needs a buyer_id and a supplier_id")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines: at least one line is needed")
    specs = []
    read_lines = fax_order.reading.get("lines", [])
    for i, raw in enumerate(raw_lines):
        where = f"lines[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidRequest(f"{where} must be an object")
        product = session.get(Product, raw.get("product_id")) if isinstance(raw.get("product_id"), int) else None
        if product is None or product.supplier_id != supplier.id:
            raise InvalidRequest(f"{where}.product_id: {raw.get('product_id')!r} is not a product of {supplier.name}")
        quantity = orders.parse_quantity(raw.get("quantity"), f"{where}.quantity")
        specs.append(LineSpec(product_id=product.id, product_name=product.name, quantity=quantity,
                              unit=product.unit, unit_price=product.unit_price, note=""))
        # The line as read: by the position the correction names, else the same place in the list.
        position = raw.get("position", i + 1)
        read = next((line for line in read_lines if line["position"] == position), None)
        written = raw.get("item") or (read["item"]["value"] or read["item"]["text"] if read else "")
        read_as = read["product"]["product_id"] if read else None
        if written and read_as != product.id and fax_order.layout == "free":
            _remember_alias(session, buyer, str(written), product, fax_order)
    address = next(iter(addresses_of(session, buyer.id)), None)
    if address is None:
        raise InvalidRequest(f"{buyer.name} has no delivery address; add one first")
    delivery = {"name": address.name, "postal_code": address.postal_code, "address": address.address,
                "phone": address.phone, "recipient": address.recipient}
    desired = orders.date_from(body.get("delivery_date"))
    note = str(body.get("note") or (fax_order.reading.get("fields", {}).get("note") or {}).get("value") or "")
    placed = orders.place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=address.id,
                          delivery=delivery, desired_date=desired, note=note[:2000],
                          orderer_name=f"{buyer.name}（FAX）", lines=specs)
    fax_order.order_id = placed.id
    fax_order.reason = None
    fire(session, settings, fax_order, "accept", f"by {by}: order {placed.number}", order=placed.id)
    record(session, orders.OBJECT_TYPE, placed.id, "source", f"from fax order {fax_order.id}",
           fax_order=fax_order.id, inbound_id=fax_order.inbound_id)
    send_confirmation(session, settings, fax_order, buyer, placed)


def _remember_alias(session: Session, buyer: Buyer, written: str, product: Product, fax_order: FaxOrder) -> None:
    key = alias_key(written)
    if not key:
        return
    alias = session.scalars(select(ProductAlias).where(ProductAlias.buyer_id == buyer.id,
                                                       ProductAlias.alias_key == key)).first()
    if alias is None:
        session.add(ProductAlias(buyer_id=buyer.id, alias_key=key, alias=written[:255], product_id=product.id))
    else:
        alias.product_id, alias.alias = product.id, written[:255]
    record(session, OBJECT_TYPE, fax_order.id, "alias", f"{buyer.name} writes {written!r} for {product.name}",
           product=product.id)
