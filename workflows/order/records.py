"""What an order keeps: its lines, its parties, its documents, and the totals it comes to.

The order sheet is rendered once and stored; every copy sent, by fax or by mail, is that
same document, and the order's documents print the order as it was when placed: the buyer's and the
business's names and addresses are copied onto the order (``buyer_party``), the orderer's name too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.config import Settings
from workflows.models import Business, Buyer, Document, Order, OrderLine, Supplier
from workflows.order_documents.references import order_reference
from workflows.order_documents.rendering import render_order_sheet
from workflows.order_documents.sheets import OrderSheet, SheetLine, SheetParty
from workflows.timeline import record

OBJECT_TYPE = "order"


def reply_address(order: Order, settings: Settings) -> str:
    return f"reply+{order.reply_token}@{settings.mail_domain}"


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                .order_by(OrderLine.position)))


def parties(session: Session, order: Order) -> tuple[Buyer, Supplier]:
    buyer = session.get(Buyer, order.buyer_id)
    supplier = session.get(Supplier, order.supplier_id)
    assert buyer is not None and supplier is not None
    return buyer, supplier


@dataclass(frozen=True)
class BuyerParty:
    """The buyer as an order shows it: the group, the business that ordered, where its mail goes."""

    name: str  # the group and the business: "レストラン山田 渋谷店"
    email: str
    phone: str
    fax: str
    language: str


def buyer_party_of(buyer: Buyer, business: Business | None) -> dict[str, Any]:
    """What an order keeps of its buyer when placed (``Order.buyer_party``): later renames change no order."""
    source: Buyer | Business = business if business is not None else buyer
    return {"buyer": buyer.name, "business": business.name if business else "", "email": source.email,
            "phone": source.phone or buyer.phone, "fax": source.fax or buyer.fax, "language": source.language}


def ordering_party(session: Session, order: Order) -> BuyerParty:
    """The buyer as the order was placed by; an order from before there were snapshots reads the buyer now."""
    kept = order.buyer_party
    if not kept:
        buyer, _ = parties(session, order)
        kept = buyer_party_of(buyer, None)
    name = " ".join(part for part in (kept.get("buyer", ""), kept.get("business", "")) if part)
    return BuyerParty(name=name, email=kept.get("email", ""), phone=kept.get("phone", ""), fax=kept.get("fax", ""),
                      language=kept.get("language", "ja"))


def sheet_for(session: Session, order: Order) -> OrderSheet:
    """The order as its documents print it: what it was when ordered."""
    _, supplier = parties(session, order)
    buyer = ordering_party(session, order)
    delivery = order.delivery
    return OrderSheet(
        order_id=order.id,
        number=order.number,
        ordered_at=order.created_at,
        orderer_name=order.orderer_name,
        buyer=SheetParty(company=buyer.name, phone=buyer.phone, fax=buyer.fax, email=buyer.email),
        supplier=SheetParty(company=supplier.name, person=supplier.contact_name, fax=supplier.fax_number or "",
                            email=supplier.email or ""),
        delivery=SheetParty(company=str(delivery.get("name", "")), person=str(delivery.get("recipient", "")),
                            postal_code=str(delivery.get("postal_code", "")),
                            address=str(delivery.get("address", "")), phone=str(delivery.get("phone", ""))),
        desired_date=order.desired_date,
        note=order.note,
        lines=tuple(SheetLine(position=line.position, product_name=line.product_name, quantity=line.quantity,
                              unit=line.unit, unit_price=line.unit_price, note=line.note,
                              delivered_quantity=line.confirmed_quantity)
                    for line in lines_of(session, order)),
        language=order.language,
    )


def store_document(session: Session, order: Order, kind: str, pdf: bytes) -> Document:
    document = Document(object_type=OBJECT_TYPE, object_id=order.id, kind=kind,
                        filename=f"{order.number}-{kind.replace('_', '-')}.pdf", content_type="application/pdf",
                        data=pdf)
    session.add(document)
    session.flush()
    record(session, OBJECT_TYPE, order.id, "document", f"{kind.replace('_', ' ')} rendered ({len(pdf)} bytes)",
           document_id=document.id)
    return document


def latest_document(session: Session, order_id: int, kind: str) -> Document | None:
    return session.scalars(
        select(Document).where(Document.object_type == OBJECT_TYPE, Document.object_id == order_id,
                               Document.kind == kind).order_by(Document.id.desc()).limit(1)
    ).first()


def order_sheet(session: Session, settings: Settings, order: Order) -> Document:
    """The order sheet, rendered once: every copy sent is the same document."""
    document = latest_document(session, order.id, "order_sheet")
    if document is None:
        pdf = render_order_sheet(sheet_for(session, order), reference=order_reference(order.id, settings.secret_key),
                                 reply_address=reply_address(order, settings), fax_number=settings.fax_number)
        document = store_document(session, order, "order_sheet", pdf)
    return document


def total_of(lines: Sequence[OrderLine], *, confirmed: bool = False) -> int | None:
    """The amount in yen, tax excluded; None when a price is unknown."""
    total = Decimal(0)
    for line in lines:
        if line.unit_price is None:
            return None
        quantity = line.confirmed_quantity if confirmed and line.confirmed_quantity is not None else line.quantity
        total += quantity * line.unit_price
    return int(total.to_integral_value())
