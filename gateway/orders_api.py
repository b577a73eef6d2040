"""The order API: place, follow, re-order, ship and inspect orders to suppliers off the platform."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import order as orders
from workflows.errors import NotFound
from workflows.models import Buyer, Order, OrderLine, Supplier
from workflows.timeline import event_json, timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime

LIST_LIMIT = 500
DOCUMENT_KINDS = ("order_sheet", "delivery_note")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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
        "inspected_at": _iso(line.inspected_at),
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
        "delivery": order.delivery,
        "desired_date": order.desired_date.isoformat() if order.desired_date else None,
        "delivery_date": order.delivery_date.isoformat() if order.delivery_date else None,
        "note": order.note,
        "reorder_of": order.reorder_of,
        "answer_due_at": _iso(order.answer_due_at),
        "shipped_on": order.shipped_on.isoformat() if order.shipped_on else None,
        "delivered_at": _iso(order.delivered_at),
        "created_at": _iso(order.created_at),
        "lines": [line_json(line) for line in lines],
        "total": orders.total_of(lines),
        "undelivered": [line.position for line in orders.undelivered_lines(lines)]
        if order.state in orders.UNDELIVERED_STATES else [],
        "documents": [kind for kind in DOCUMENT_KINDS if orders.latest_document(session, order.id, kind)],
    }
    if with_timeline:
        data["timeline"] = [event_json(e) for e in timeline(session, orders.OBJECT_TYPE, order.id)]
    return data


def orders_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    def session_dep() -> Iterator[Session]:
        with runtime.db.sessions() as session:
            yield session

    def _locked(session: Session, order_id: int) -> Order:
        order = session.get(Order, order_id, with_for_update=True)
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return order

    @router.post("/api/orders", status_code=201)
    def place_order(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            return order_json(session, orders.create(session, runtime.settings, body))

    @router.get("/api/orders")
    def list_orders(state: str | None = None, buyer_id: int | None = None, undelivered: bool = False,
                    flagged: bool = False, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        """Orders, newest first; ``undelivered=true``: those with items not (fully) delivered yet."""
        query = select(Order).order_by(Order.id.desc()).limit(LIST_LIMIT)
        if state:
            query = query.where(Order.state == state)
        if buyer_id is not None:
            query = query.where(Order.buyer_id == buyer_id)
        if flagged:
            query = query.where(Order.flag.is_not(None))
        if undelivered:
            query = query.where(Order.state.in_(orders.UNDELIVERED_STATES))
        found = [order_json(session, order, with_timeline=False) for order in session.scalars(query)]
        return [o for o in found if o["undelivered"]] if undelivered else found

    @router.get("/api/orders/{order_id}")
    def get_order(order_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        order = session.get(Order, order_id)
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return order_json(session, order)

    @router.post("/api/orders/{order_id}/reorder", status_code=201)
    def reorder(order_id: int, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            previous = session.get(Order, order_id)
            if previous is None:
                raise NotFound(f"order {order_id} does not exist")
            return order_json(session, orders.reorder(session, runtime.settings, previous, body or {}))

    @router.post("/api/orders/{order_id}/ship")
    def ship(order_id: int, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        """Shipped (出荷済): the delivery note (納品書) is made and the buyer told."""
        with runtime.db.transaction() as session:
            order = _locked(session, order_id)
            orders.ship(session, runtime.settings, order, orders.date_from((body or {}).get("shipped_on")))
            return order_json(session, order)

    @router.post("/api/orders/{order_id}/inspection")
    def inspect(order_id: int, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Inspection (検品): ``{"lines": [{"position": 1, "delivered_quantity": "3"}, ...]}``."""
        with runtime.db.transaction() as session:
            order = _locked(session, order_id)
            orders.inspect(session, runtime.settings, order, body)
            return order_json(session, order)

    @router.get("/api/orders/{order_id}/documents/{kind}")
    def document(order_id: int, kind: str, session: Session = Depends(session_dep)) -> Response:
        found = orders.latest_document(session, order_id, kind) if kind in DOCUMENT_KINDS else None
        if found is None:
            raise NotFound(f"order {order_id} has no {kind}")
        return Response(found.data, media_type=found.content_type,
                        headers={"Content-Disposition": f'inline; filename="{found.filename}"'})

    return router
