"""The order API: place, follow, re-order, ship and inspect orders to suppliers off the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, binary_answer, document_response, iso, session_dependency, timeline_json
from workflows import order as orders
from workflows.access import get_visible, visible
from workflows.errors import NotFound
from workflows.models import Buyer, Operator, Order, OrderLine, Supplier

if TYPE_CHECKING:
    from gateway.runtime import Runtime

DOCUMENT_KINDS = ("order_sheet", "delivery_note")


def documents_of(session: Session, order_id: int) -> list[str]:
    """The kinds of document made so far for the order (order sheet, delivery note)."""
    return [kind for kind in DOCUMENT_KINDS if orders.latest_document(session, order_id, kind)]


def line_json(line: OrderLine) -> dict[str, Any]:
    return {
        "position": line.position,
        "product_id": line.product_id,
        "product_name": line.product_name,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": line.unit_price,
        "subtotal": int(line.quantity * line.unit_price) if line.unit_price is not None else None,
        "note": line.note,
        "confirmed_quantity": None if line.confirmed_quantity is None else str(line.confirmed_quantity),
        "delivered_quantity": None if line.delivered_quantity is None else str(line.delivered_quantity),
        "inspected_at": iso(line.inspected_at),
    }


def order_json(session: Session, order: Order, *, with_timeline: bool = True) -> dict[str, Any]:
    buyer = session.get(Buyer, order.buyer_id)
    supplier = session.get(Supplier, order.supplier_id)
    assert buyer is not None and supplier is not None
    lines = orders.lines_of(session, order)
    data: dict[str, Any] = {
        "id": order.id,
        "number": order.number,
        "state": order.state,
        "flag": order.flag,
        "buyer": {"id": buyer.id, "name": buyer.name},
        "supplier": {"id": supplier.id, "name": supplier.name, "channel": supplier.channel},
        "orderer_name": order.orderer_name,
        "orderer_id": order.orderer_id,
        "business_id": order.business_id,
        "buyer_party": order.buyer_party,
        "delivery": order.delivery,
        "desired_date": iso(order.desired_date),
        "delivery_date": iso(order.delivery_date),
        "note": order.note,
        "reorder_of": order.reorder_of,
        "answer_due_at": iso(order.answer_due_at),
        "shipped_on": iso(order.shipped_on),
        "delivered_at": iso(order.delivered_at),
        "created_at": iso(order.created_at),
        "lines": [line_json(line) for line in lines],
        "total": orders.total_of(lines),
        "undelivered": [line.position for line in orders.undelivered_lines(lines)]
        if order.state in orders.UNDELIVERED_STATES else [],
        "documents": documents_of(session, order.id),
    }
    if with_timeline:
        data["timeline"] = timeline_json(session, orders.OBJECT_TYPE, order.id)
    return data


def orders_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.post("/api/orders", status_code=201)
    def place_order(me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            if me.scoped:
                buyer_id = body.get("buyer_id")
                get_visible(session, Buyer, buyer_id if isinstance(buyer_id, int) else 0, "buyer", me)
            orderer = session.get(Operator, me.operator_id) if me.operator_id is not None else None
            return order_json(session, orders.create(session, runtime.settings, body, orderer))

    @router.get("/api/orders")
    def list_orders(state: str | None = None, buyer_id: int | None = None, undelivered: bool = False,
                    flagged: bool = False, session: Session = Depends(session_dep), *, me: Me
                    ) -> list[dict[str, Any]]:
        """Orders, newest first; ``undelivered=true``: those with items not (fully) delivered yet."""
        query = visible(select(Order).order_by(Order.id.desc()).limit(LIST_LIMIT), Order, me)
        if state:
            query = query.where(Order.state == state)
        if buyer_id is not None:
            query = query.where(Order.buyer_id == buyer_id)
        if flagged:
            query = query.where(Order.flag.is_not(None))
        if undelivered:
            query = query.where(orders.undelivered_clause())
        return [order_json(session, order, with_timeline=False) for order in session.scalars(query)]

    @router.get("/api/orders/{order_id}")
    def get_order(order_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        return order_json(session, get_visible(session, Order, order_id, "order", me))

    @router.post("/api/orders/{order_id}/reorder", status_code=201)
    def reorder(order_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            previous = get_visible(session, Order, order_id, "order", me)
            return order_json(session, orders.reorder(session, runtime.settings, previous, body or {}))

    @router.post("/api/orders/{order_id}/ship")
    def ship(order_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        """Shipped (出荷済): the delivery note (納品書) is made and the buyer told."""
        with runtime.db.transaction() as session:
            order = get_visible(session, Order, order_id, "order", me, lock=True)
            orders.ship(session, runtime.settings, order, orders.date_from((body or {}).get("shipped_on")))
            return order_json(session, order)

    @router.post("/api/orders/{order_id}/inspection")
    def inspect(order_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Inspection (検品): ``{"lines": [{"position": 1, "delivered_quantity": "3"}, ...]}``."""
        with runtime.db.transaction() as session:
            order = get_visible(session, Order, order_id, "order", me, lock=True)
            orders.inspect(session, runtime.settings, order, body)
            return order_json(session, order)

    @router.get("/api/orders/{order_id}/documents/{kind}", **binary_answer("application/pdf"))
    def document(order_id: int, kind: str, me: Me, session: Session = Depends(session_dep)) -> Response:
        get_visible(session, Order, order_id, "order", me)
        found = orders.latest_document(session, order_id, kind) if kind in DOCUMENT_KINDS else None
        if found is None:
            raise NotFound(f"order {order_id} has no {kind}")
        return document_response(found)

    return router
