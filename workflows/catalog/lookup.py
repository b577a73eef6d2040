"""Finding catalog records and showing them as JSON: what the API and the order workflow read.

A buyer's suppliers and delivery addresses are unique by name as ``parsers.normalize.name_key``
sees it, and so are a supplier's products: ``by_name_key`` and ``product_by_name`` look them up so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.normalize import name_key
from workflows.errors import NotFound
from workflows.models import Business, Buyer, DeliveryAddress, Product, Supplier

_Named = TypeVar("_Named", Supplier, DeliveryAddress, Business)


def get_buyer(session: Session, buyer_id: int, *, for_update: bool = False) -> Buyer:
    # FOR UPDATE (PostgreSQL): catalog writes of one buyer take turns, so name checks hold until commit.
    buyer = session.get(Buyer, buyer_id, with_for_update=True if for_update else None)
    if buyer is None:
        raise NotFound(f"buyer {buyer_id} does not exist")
    return buyer


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    return supplier


def addresses_of(session: Session, buyer_id: int) -> list[DeliveryAddress]:
    return list(session.scalars(select(DeliveryAddress).where(DeliveryAddress.buyer_id == buyer_id)
                                .order_by(DeliveryAddress.id)))


def businesses_of(session: Session, buyer_id: int) -> list[Business]:
    return list(session.scalars(select(Business).where(Business.buyer_id == buyer_id).order_by(Business.id)))


def suppliers_of(session: Session, buyer_id: int) -> list[Supplier]:
    return list(session.scalars(select(Supplier).where(Supplier.buyer_id == buyer_id).order_by(Supplier.id)))


def products_of(session: Session, supplier_id: int) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.supplier_id == supplier_id).order_by(Product.id)))


def product_by_name(session: Session, supplier_id: int, name: str) -> Product | None:
    """The supplier's product of that name, however it is typed (full-width, half-width kana, case)."""
    return session.scalars(select(Product).where(Product.supplier_id == supplier_id,
                                                 Product.name_key == name_key(name))).first()


def by_name_key(rows: Sequence[_Named]) -> dict[str, _Named]:
    return {name_key(row.name): row for row in rows}


def address_json(address: DeliveryAddress) -> dict[str, Any]:
    return {"id": address.id, "buyer_id": address.buyer_id, "name": address.name,
            "postal_code": address.postal_code, "address": address.address, "phone": address.phone,
            "recipient": address.recipient}


def business_json(business: Business) -> dict[str, Any]:
    return {"id": business.id, "buyer_id": business.buyer_id, "name": business.name, "email": business.email,
            "phone": business.phone, "fax": business.fax, "language": business.language}


def product_json(product: Product) -> dict[str, Any]:
    return {"id": product.id, "supplier_id": product.supplier_id, "name": product.name, "unit": product.unit,
            "unit_price": product.unit_price, "note": product.note}


def supplier_json(supplier: Supplier, products: Sequence[Product] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": supplier.id, "buyer_id": supplier.buyer_id, "name": supplier.name,
        "contact_name": supplier.contact_name, "email": supplier.email, "fax": supplier.fax_number,
        "channel": supplier.channel, "language": supplier.language,
    }
    if products is not None:
        data["products"] = [product_json(p) for p in products]
    return data


def buyer_json(buyer: Buyer, addresses: Sequence[DeliveryAddress] | None = None,
               suppliers: Sequence[Supplier] | None = None, businesses: Sequence[Business] | None = None
               ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": buyer.id, "created_at": buyer.created_at.isoformat() if buyer.created_at else None,
        "name": buyer.name, "email": buyer.email, "phone": buyer.phone, "fax": buyer.fax,
        "language": buyer.language,
    }
    if addresses is not None:
        data["delivery_addresses"] = [address_json(a) for a in addresses]
    if suppliers is not None:
        data["suppliers"] = [supplier_json(s) for s in suppliers]
    if businesses is not None:
        data["businesses"] = [business_json(b) for b in businesses]
    return data
