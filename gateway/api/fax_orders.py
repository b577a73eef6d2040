"""The fax order API: what was read off a buyer's fax, field by field, over its page image.

    GET  /api/fax-orders?state=needs_review     the queue (newest first)
    GET  /api/fax-orders/{id}                   fields with confidence, page and box (mm), pages, timeline
    GET  /api/fax-orders/{id}/pages/{n}         the page image (PNG) the boxes refer to
    POST /api/fax-orders/{id}/accept            an operator's corrections, then the order is placed
    POST /api/fax-orders/{id}/discard           not an order (junk fax, a test page)
    POST /api/suppliers/{id}/order-form         the gateway's own order form for that supplier's buyer (PDF)

The review page over this JSON is a console screen (``gateway.console``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, binary_answer, iso, session_dependency, timeline_json
from workflows import fax_order as fax_orders
from workflows.access import get_visible, visible
from workflows.errors import NotFound
from workflows.models import Document, FaxOrder, Order, Supplier

if TYPE_CHECKING:
    from gateway.runtime import Runtime

def fax_order_json(session: Session, found: FaxOrder, *, with_timeline: bool = True) -> dict[str, Any]:
    reading = dict(found.reading)
    order = session.get(Order, found.order_id) if found.order_id else None
    data: dict[str, Any] = {
        "id": found.id,
        "state": found.state,
        "reason": found.reason,
        "flag": found.flag,
        "received_at": iso(found.received_at),
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
        data["timeline"] = timeline_json(session, fax_orders.OBJECT_TYPE, found.id)
    return data


def fax_orders_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/api/fax-orders")
    def list_fax_orders(me: Me, state: str | None = None, session: Session = Depends(session_dep)
                        ) -> list[dict[str, Any]]:
        query = visible(select(FaxOrder).order_by(FaxOrder.id.desc()).limit(LIST_LIMIT), FaxOrder, me)
        if state:
            query = query.where(FaxOrder.state == state)
        return [fax_order_json(session, f, with_timeline=False) for f in session.scalars(query)]

    @router.get("/api/fax-orders/{fax_order_id}")
    def get_fax_order(fax_order_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        return fax_order_json(session, get_visible(session, FaxOrder, fax_order_id, "fax order", me))

    @router.get("/api/fax-orders/{fax_order_id}/pages/{number}", **binary_answer("image/png"))
    def page_image(fax_order_id: int, number: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        found = get_visible(session, FaxOrder, fax_order_id, "fax order", me)
        page = next((p for p in found.reading.get("pages", []) if p["number"] == number), None)
        document = session.get(Document, page["document_id"]) if page else None
        if document is None:
            raise NotFound(f"fax order {fax_order_id} has no page {number}")
        return Response(document.data, media_type=document.content_type)

    @router.post("/api/fax-orders/{fax_order_id}/accept")
    def accept(fax_order_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        """Correct and accept: ``{"lines": [{"product_id": 3, "quantity": "2", "item": "ﾄﾏﾄ"}],
        "delivery_date": "2026-11-25", "note": "..."}``; what is left out is taken as read."""
        with runtime.db.transaction() as session:
            found = get_visible(session, FaxOrder, fax_order_id, "fax order", me, lock=True)
            fax_orders.accept(session, runtime.settings, found, body or {})
            return fax_order_json(session, found)

    @router.post("/api/fax-orders/{fax_order_id}/discard")
    def discard(fax_order_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            found = get_visible(session, FaxOrder, fax_order_id, "fax order", me, lock=True)
            fax_orders.discard(session, runtime.settings, found, str((body or {}).get("reason") or ""))
            return fax_order_json(session, found)

    @router.post("/api/suppliers/{supplier_id}/order-form", **binary_answer("application/pdf"))
    def order_form(supplier_id: int, me: Me, body: dict[str, Any] | None = Body(None)) -> Response:
        """The gateway's own order form listing the supplier's products, for its buyer to fax back."""
        with runtime.db.transaction() as session:
            get_visible(session, Supplier, supplier_id, "supplier", me)
            form, pdf = fax_orders.issue_form(session, runtime.settings, supplier_id, body or {})
            return Response(pdf, media_type="application/pdf",
                            headers={"Content-Disposition": f'inline; filename="order-form-{form.id}.pdf"',
                                     "X-Form-Id": str(form.id)})

    return router
