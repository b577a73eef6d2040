"""The fax order API and review page: what was read off a buyer's fax, field by field, over its page image.

    GET  /api/fax-orders?state=needs_review     the queue (newest first)
    GET  /api/fax-orders/{id}                   fields with confidence, page and box (mm), pages, timeline
    GET  /api/fax-orders/{id}/pages/{n}         the page image (PNG) the boxes refer to
    POST /api/fax-orders/{id}/accept            an operator's corrections, then the order is placed
    POST /api/fax-orders/{id}/discard           not an order (junk fax, a test page)
    GET  /fax-orders/{id}                       the review page: the page image with the fields over it
    POST /api/suppliers/{id}/order-form         the gateway's own order form for that supplier's buyer (PDF)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import fax_order as fax_orders
from workflows.errors import NotFound
from workflows.models import Buyer, Document, FaxOrder, Order, Product, Supplier
from workflows.timeline import event_json, timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime

LIST_LIMIT = 500


def fax_order_json(session: Session, found: FaxOrder, *, with_timeline: bool = True) -> dict[str, Any]:
    reading = dict(found.reading)
    order = session.get(Order, found.order_id) if found.order_id else None
    data: dict[str, Any] = {
        "id": found.id,
        "state": found.state,
        "reason": found.reason,
        "flag": found.flag,
        "received_at": found.received_at.isoformat(),
        "sender_fax": found.sender_fax,
        "buyer_id": found.buyer_id,
        "supplier_id": found.supplier_id,
        "form_id": found.form_id,
        "layout": found.layout,
        "inbound_id": found.inbound_id,
        "order": {"id": order.id, "number": order.number, "state": order.state} if order else None,
        "fields": reading.get("fields", {}),
        "lines": reading.get("lines", []),
        "pages": [page | {"url": f"/api/fax-orders/{found.id}/pages/{page['number']}"}
                  for page in reading.get("pages", [])],
        "problems": reading.get("problems", []),
        "sender": reading.get("sender"),
        "buyer": reading.get("buyer"),
        "supplier": reading.get("supplier"),
    }
    if with_timeline:
        data["timeline"] = [event_json(e) for e in timeline(session, fax_orders.OBJECT_TYPE, found.id)]
    return data


def fax_orders_router(runtime: Runtime, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter()

    def session_dep() -> Iterator[Session]:
        with runtime.db.sessions() as session:
            yield session

    def _get(session: Session, fax_order_id: int, *, lock: bool = False) -> FaxOrder:
        found = session.get(FaxOrder, fax_order_id, with_for_update=lock)
        if found is None:
            raise NotFound(f"fax order {fax_order_id} does not exist")
        return found

    @router.get("/api/fax-orders")
    def list_fax_orders(state: str | None = None, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = select(FaxOrder).order_by(FaxOrder.id.desc()).limit(LIST_LIMIT)
        if state:
            query = query.where(FaxOrder.state == state)
        return [fax_order_json(session, f, with_timeline=False) for f in session.scalars(query)]

    @router.get("/api/fax-orders/{fax_order_id}")
    def get_fax_order(fax_order_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        return fax_order_json(session, _get(session, fax_order_id))

    @router.get("/api/fax-orders/{fax_order_id}/pages/{number}")
    def page_image(fax_order_id: int, number: int, session: Session = Depends(session_dep)) -> Response:
        found = _get(session, fax_order_id)
        page = next((p for p in found.reading.get("pages", []) if p["number"] == number), None)
        document = session.get(Document, page["document_id"]) if page else None
        if document is None:
            raise NotFound(f"fax order {fax_order_id} has no page {number}")
        return Response(document.data, media_type=document.content_type)

    @router.post("/api/fax-orders/{fax_order_id}/accept")
    def accept(fax_order_id: int, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        """Correct and accept: ``{"lines": [{"product_id": 3, "quantity": "2", "item": "ﾄﾏﾄ"}],
        "delivery_date": "2026-11-25", "note": "..."}``; what is left out is taken as read."""
        with runtime.db.transaction() as session:
            found = _get(session, fax_order_id, lock=True)
            fax_orders.accept(session, runtime.settings, found, body or {})
            return fax_order_json(session, found)

    @router.post("/api/fax-orders/{fax_order_id}/discard")
    def discard(fax_order_id: int, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            found = _get(session, fax_order_id, lock=True)
            fax_orders.discard(session, runtime.settings, found, str((body or {}).get("reason") or ""))
            return fax_order_json(session, found)

    @router.post("/api/suppliers/{supplier_id}/order-form")
    def order_form(supplier_id: int, body: dict[str, Any] | None = Body(None)) -> Response:
        """The gateway's own order form listing the supplier's products, for its buyer to fax back."""
        with runtime.db.transaction() as session:
            form, pdf = fax_orders.issue_form(session, runtime.settings, supplier_id, body or {})
            return Response(pdf, media_type="application/pdf",
                            headers={"Content-Disposition": f'inline; filename="order-form-{form.id}.pdf"',
                                     "X-Form-Id": str(form.id)})

    @router.get("/fax-orders/{fax_order_id}", response_class=HTMLResponse)
    def review_page(fax_order_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        found = _get(session, fax_order_id)
        products = list(session.scalars(select(Product).where(Product.supplier_id == found.supplier_id)
                                        .order_by(Product.id))) if found.supplier_id else []
        return templates.TemplateResponse(request, "fax_order.html", {
            "fax": fax_order_json(session, found),
            "buyer": session.get(Buyer, found.buyer_id) if found.buyer_id else None,
            "supplier": session.get(Supplier, found.supplier_id) if found.supplier_id else None,
            "products": products,
            "events": timeline(session, fax_orders.OBJECT_TYPE, found.id)})

    return router
