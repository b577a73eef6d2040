"""Placing an order: from an API body, or again as a re-order, and sending its sheet.

Every line names one of the supplier's products, by id or by name; the delivery address,
the buyer's and its business's names and addresses, and the orderer's name are copied onto the
order so that its documents keep printing what was ordered, and by whom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.catalog.lookup import product_by_name
from workflows.clock import TOKYO
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.invitation import new_reply_token
from workflows.models import Business, Buyer, DeliveryAddress, Operator, Order, OrderLine, Product, Supplier
from workflows.order.notices import send_sheet
from workflows.order.records import OBJECT_TYPE, buyer_party_of, lines_of, parties
from workflows.order.states import MACHINE
from workflows.order.values import date_from, parse_quantity
from workflows.timeline import record

MAX_LINES = 200


def _text(body: Mapping[str, Any], key: str, *, required: bool = False, multiline: bool = False,
          limit: int = 255) -> str:
    value = body.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{key} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"{key} is required")
    if not multiline and ("\n" in value or "\r" in value):
        raise InvalidRequest(f"{key} must be one line")
    if len(value) > limit:
        raise InvalidRequest(f"{key} is longer than {limit} characters")
    return value


def _int_field(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{key} must be an integer id")
    return value


@dataclass(frozen=True)
class LineSpec:
    product_id: int | None
    product_name: str
    quantity: Decimal
    unit: str
    unit_price: int | None
    note: str


def _line_specs(session: Session, supplier: Supplier, raw_lines: object) -> list[LineSpec]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines must be a non-empty list")
    if len(raw_lines) > MAX_LINES:
        raise InvalidRequest(f"an order has at most {MAX_LINES} lines")
    specs = []
    for number, raw in enumerate(raw_lines, start=1):
        where = f"lines[{number}]"
        if not isinstance(raw, dict):
            raise InvalidRequest(f"{where} must be an object")
        product: Product | None = None
        if raw.get("product_id") is not None:
            product = session.get(Product, raw["product_id"]) if isinstance(raw["product_id"], int) else None
            if product is None or product.supplier_id != supplier.id:
                raise InvalidRequest(f"{where}: product {raw['product_id']!r} is not one of {supplier.name}'s")
        else:
            name = _text(raw, "product_name", required=True)
            product = product_by_name(session, supplier.id, name)
            if product is None:
                raise InvalidRequest(f"{where}: {name!r} is not a product of {supplier.name}; register it first")
        unit_price = raw.get("unit_price", product.unit_price)
        if unit_price is not None and (isinstance(unit_price, bool) or not isinstance(unit_price, int)
                                       or unit_price < 0):
            raise InvalidRequest(f"{where}: unit_price must be a whole number of yen")
        specs.append(LineSpec(product_id=product.id, product_name=product.name,
                              quantity=parse_quantity(raw.get("quantity"), f"{where}.quantity"),
                              unit=_text(raw, "unit") or product.unit, unit_price=unit_price,
                              note=_text(raw, "note", multiline=True, limit=500)))
    return specs


def _delivery(session: Session, buyer: Buyer, body: Mapping[str, Any]) -> tuple[int | None, dict[str, Any]]:
    address_id = body.get("delivery_address_id")
    if address_id is None:
        addresses = list(session.scalars(select(DeliveryAddress).where(DeliveryAddress.buyer_id == buyer.id)
                                         .order_by(DeliveryAddress.id).limit(2)))
        if len(addresses) != 1:
            raise InvalidRequest("delivery_address_id is required" if addresses
                                 else f"{buyer.name} has no delivery address; add one first")
        address = addresses[0]
    else:
        found = session.get(DeliveryAddress, address_id) if isinstance(address_id, int) else None
        if found is None or found.buyer_id != buyer.id:
            raise InvalidRequest(f"delivery address {address_id!r} is not one of {buyer.name}'s")
        address = found
    return address.id, _delivery_of(address)


def _delivery_of(address: DeliveryAddress) -> dict[str, Any]:
    """The address as the order keeps it: a copy, so that editing the address later changes no order."""
    return {"name": address.name, "postal_code": address.postal_code, "address": address.address,
            "phone": address.phone, "recipient": address.recipient}


def _business(session: Session, buyer: Buyer, business_id: object) -> Business | None:
    """The business that orders: the one named, the buyer's only one, or none when the buyer has none."""
    if business_id is None:
        found = list(session.scalars(select(Business).where(Business.buyer_id == buyer.id)
                                     .order_by(Business.id).limit(2)))
        if len(found) > 1:
            raise InvalidRequest(f"business_id is required: {buyer.name} has several businesses")
        return found[0] if found else None
    business = session.get(Business, business_id) if isinstance(business_id, int) else None
    if business is None or business.buyer_id != buyer.id:
        raise InvalidRequest(f"business {business_id!r} is not one of {buyer.name}'s")
    return business


def create(session: Session, settings: Settings, body: Mapping[str, Any], orderer: Operator | None = None) -> Order:
    """Place an order from an API body and send its sheet to the supplier.

    ``orderer``: the buyer's user placing it (its name is the orderer's unless the body gives one).
    """
    buyer = session.get(Buyer, _int_field(body, "buyer_id"))
    if buyer is None:
        raise InvalidRequest(f"buyer {body.get('buyer_id')} does not exist")
    supplier = session.get(Supplier, _int_field(body, "supplier_id"))
    if supplier is None or supplier.buyer_id != buyer.id:
        raise InvalidRequest(f"supplier {body.get('supplier_id')} is not one of {buyer.name}'s suppliers")
    address_id, delivery = _delivery(session, buyer, body)
    business = _business(session, buyer, body.get("business_id"))
    own = orderer if orderer is not None and orderer.buyer_id == buyer.id else None
    orderer_name = _text(body, "orderer_name", required=own is None) or (own.full_name or own.name if own else "")
    return place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=address_id,
                 delivery=delivery, desired_date=date_from(body.get("desired_date")),
                 note=_text(body, "note", multiline=True, limit=2000), orderer_name=orderer_name,
                 lines=_line_specs(session, supplier, body.get("lines")), business=business,
                 orderer_id=own.id if own else None)


def place(session: Session, settings: Settings, *, buyer: Buyer, supplier: Supplier, delivery_address_id: int | None,
          delivery: dict[str, Any], desired_date: date | None, note: str, orderer_name: str,
          lines: Sequence[LineSpec], reorder_of: int | None = None, business: Business | None = None,
          orderer_id: int | None = None) -> Order:
    now = clock.now()
    if desired_date is not None and desired_date < clock.day_of(now):
        raise InvalidRequest(f"desired_date {desired_date} is in the past")
    token = new_reply_token()
    order = Order(number=f"pending-{token}", buyer_id=buyer.id, supplier_id=supplier.id, state=MACHINE.initial,
                  reply_token=token, orderer_name=orderer_name, delivery_address_id=delivery_address_id,
                  business_id=business.id if business else None, orderer_id=orderer_id,
                  buyer_party=buyer_party_of(buyer, business),
                  delivery=delivery, desired_date=desired_date, note=note, language=supplier.language,
                  reorder_of=reorder_of, created_at=now,
                  answer_due_at=now + timedelta(hours=settings.order_answer_hours))
    session.add(order)
    session.flush()
    order.number = f"PO-{now.astimezone(TOKYO).year}-{order.id:06d}"
    session.add_all(OrderLine(order_id=order.id, position=position, product_id=spec.product_id,
                              product_name=spec.product_name, quantity=spec.quantity, unit=spec.unit,
                              unit_price=spec.unit_price, note=spec.note)
                    for position, spec in enumerate(lines, start=1))
    session.flush()
    summary = (f"order {order.number} from {buyer.name}{f' {business.name}' if business else ''} to "
               f"{supplier.name}, {len(lines)} lines")
    if reorder_of:
        summary += f" (re-order of order {reorder_of})"
    record(session, OBJECT_TYPE, order.id, "created", summary, orderer=orderer_name, reorder_of=reorder_of)
    send_sheet(session, settings, order, supplier.channel)
    return order


def reorder(session: Session, settings: Settings, previous: Order, body: Mapping[str, Any]) -> Order:
    """The same order again (manual 004: 再注文): same supplier, address and lines; today's prices."""
    buyer, supplier = parties(session, previous)
    specs = []
    for line in lines_of(session, previous):
        product = session.get(Product, line.product_id) if line.product_id else None
        specs.append(LineSpec(product_id=product.id if product else None, product_name=line.product_name,
                              quantity=line.quantity, unit=line.unit,
                              unit_price=product.unit_price if product else line.unit_price, note=line.note))
    address = session.get(DeliveryAddress, previous.delivery_address_id) if previous.delivery_address_id else None
    delivery = previous.delivery if address is None else _delivery_of(address)
    note = _text(body, "note", multiline=True, limit=2000) if "note" in body else previous.note
    order = place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=previous.delivery_address_id,
                  delivery=delivery, desired_date=date_from(body.get("desired_date")), note=note,
                  orderer_name=_text(body, "orderer_name") or previous.orderer_name, lines=specs,
                  reorder_of=previous.id, orderer_id=previous.orderer_id,
                  business=session.get(Business, previous.business_id) if previous.business_id else None)
    record(session, OBJECT_TYPE, previous.id, "reordered", f"ordered again as {order.number}", reorder=order.id)
    return order
