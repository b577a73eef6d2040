"""Registering catalog records one at a time, as the API does, and how a clean record is stored.

Each write of a buyer's catalog locks the buyer row first, so that name checks hold until commit.
A product is managed by name: registering one whose name exists overwrites it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.normalize import name_key
from workflows.catalog.fields import ADDRESS, BUSINESS, BUYER, PRODUCT, SUPPLIER, Form, clean_body
from workflows.catalog.lookup import (
    addresses_of,
    businesses_of,
    by_name_key,
    get_buyer,
    get_supplier,
    product_by_name,
    suppliers_of,
)
from workflows.errors import InvalidRequest
from workflows.models import Business, Buyer, DeliveryAddress, Product, Supplier

log = logging.getLogger(__name__)


def create_buyer(session: Session, body: dict[str, Any]) -> Buyer:
    """A buyer from ``{name, email, phone?, fax?, language?: ja|en, delivery_addresses?: [...]}``."""
    clean = clean_body(BUYER, body, extra=("delivery_addresses",))
    raw_addresses = body.get("delivery_addresses") or []
    if not isinstance(raw_addresses, list):
        raise InvalidRequest("delivery_addresses must be a list")
    addresses = [clean_body(ADDRESS, raw, where=f"delivery_addresses[{i}].") for i, raw in enumerate(raw_addresses)]
    seen: dict[str, int] = {}
    for i, address in enumerate(addresses):
        first = seen.setdefault(name_key(address["name"]), i)
        if first != i:
            raise InvalidRequest(f"delivery_addresses[{i}].name: same name as delivery_addresses[{first}]")
    if session.scalars(select(Buyer.id).where(Buyer.name == clean["name"])).first() is not None:
        raise InvalidRequest(f"name: a buyer named {clean['name']!r} already exists")
    buyer = Buyer(name=clean["name"], email=clean["email"], phone=clean["phone"], fax=clean["fax"] or "",
                  language=clean["language"] or "ja")
    session.add(buyer)
    session.flush()
    for address in addresses:
        session.add(DeliveryAddress(buyer_id=buyer.id, **address))
    session.flush()
    log.info("buyer %s created with %s delivery addresses", buyer.id, len(addresses))
    return buyer


_Named = TypeVar("_Named", DeliveryAddress, Business, Supplier)


def _add_named(session: Session, buyer_id: int, kind: str, form: Form, body: dict[str, Any],
               siblings: Callable[[Session, int], list[_Named]],
               make: Callable[[Mapping[str, Any], Buyer], _Named]) -> _Named:
    """A row of the buyer's whose name (as ``name_key`` sees it) no other ``kind`` of the buyer's has."""
    buyer = get_buyer(session, buyer_id, for_update=True)
    clean = clean_body(form, body)
    if by_name_key(siblings(session, buyer_id)).get(name_key(clean["name"])):
        raise InvalidRequest(f"name: this buyer already has a {kind} named {clean['name']!r}")
    row = make(clean, buyer)
    session.add(row)
    session.flush()
    log.info("%s %s added to buyer %s", kind, row.id, buyer_id)
    return row


def add_delivery_address(session: Session, buyer_id: int, body: dict[str, Any]) -> DeliveryAddress:
    """A delivery address ``{name, address, postal_code?, phone?, recipient?}``; names are unique per buyer."""
    return _add_named(session, buyer_id, "delivery address", ADDRESS, body, addresses_of,
                      lambda clean, _buyer: DeliveryAddress(buyer_id=buyer_id, **clean))


def add_business(session: Session, buyer_id: int, body: dict[str, Any]) -> Business:
    """A business ``{name, email, phone?, fax?, language?}``: its orders' confirmations go to its email."""
    return _add_named(session, buyer_id, "business", BUSINESS, body, businesses_of,
                      lambda clean, buyer: Business(buyer_id=buyer_id, **business_columns(clean, buyer)))


def business_columns(clean: Mapping[str, Any], buyer: Buyer) -> dict[str, Any]:
    return {"name": clean["name"], "email": clean["email"], "phone": clean["phone"], "fax": clean["fax"] or "",
            "language": clean["language"] or buyer.language}


def add_supplier(session: Session, buyer_id: int, body: dict[str, Any]) -> Supplier:
    """A supplier ``{name, channel?: fax|mail, fax?, email?, contact_name?, language?}``.

    The fax number is stored in E.164. ``channel`` may be left out when only one of fax and email is given.
    """
    return _add_named(session, buyer_id, "supplier", SUPPLIER, body, suppliers_of,
                      lambda clean, buyer: Supplier(buyer_id=buyer_id, **supplier_columns(clean, buyer)))


def put_product(session: Session, supplier_id: int, body: dict[str, Any]) -> tuple[Product, bool]:
    """Register ``{name, unit?, unit_price?: yen or null, note?}``; True when created.

    A product of the same name (as ``name_key`` sees it) is overwritten whole: its name takes the new
    spelling and fields left out are cleared. Its id stays, so order lines keep pointing at it.
    """
    supplier = get_supplier(session, supplier_id)
    get_buyer(session, supplier.buyer_id, for_update=True)  # one catalog writer per buyer
    clean = clean_body(PRODUCT, body)
    product = product_by_name(session, supplier_id, clean["name"])
    created = product is None
    if product is None:
        product = Product(supplier_id=supplier_id)
        session.add(product)
    set_product(product, clean)
    session.flush()
    log.info("product %s %s for supplier %s", product.id, "created" if created else "overwritten", supplier_id)
    return product, created


def supplier_columns(clean: Mapping[str, Any], buyer: Buyer) -> dict[str, Any]:
    return {"name": clean["name"], "contact_name": clean["contact_name"], "email": clean["email"],
            "fax_number": clean["fax"], "channel": str(clean["channel"]),
            "language": clean["language"] or buyer.language}


def set_product(product: Product, clean: Mapping[str, Any]) -> None:
    product.name = clean["name"]
    product.name_key = name_key(clean["name"])
    product.unit = clean["unit"]
    product.unit_price = clean["unit_price"]
    product.note = clean["note"]
