"""The operator console: HTML pages over the same rows the API answers, one handler per screen.

    GET /                        dashboard: invitations, review queue, messages, outbox, locks, orders, faxes
    GET /invitations/{id}        one invitation and its timeline
    GET /orders/{id}             one order: lines, documents, timeline
    GET /fax-orders/{id}         a fax order under review: the page image with the fields read over it

Templates live in ``templates/web``. A missing invitation or order answers a plain 404 page; a missing
fax order answers the API's JSON 404 (``NotFound``), as these pages always have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.fax_orders import fax_order_json
from gateway.api.orders import documents_of
from gateway.api.shared import get_or_404, session_dependency
from workflows import fax_order as fax_orders
from workflows import invitation
from workflows import order as orders
from workflows.credential_answers import current_locks
from workflows.mail import TEMPLATES_DIR
from workflows.models import (
    Buyer,
    FaxJob,
    FaxOrder,
    InboundMessage,
    InboundStatus,
    Invitation,
    Order,
    OutboundMessage,
    Product,
    Supplier,
)
from workflows.timeline import timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR / "web"))

    @router.get("/", response_class=HTMLResponse)
    def console(request: Request, session: Session = Depends(session_dep)) -> Response:
        invitations = list(session.scalars(select(Invitation).order_by(Invitation.id.desc()).limit(100)))
        review = list(session.scalars(
            select(InboundMessage).where(InboundMessage.status == InboundStatus.REVIEW).order_by(InboundMessage.id)
        ))
        messages = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(50)))
        outbox = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(50)))
        return templates.TemplateResponse(
            request,
            "console.html",
            {"invitations": invitations, "review": review, "messages": messages, "outbox": outbox,
             "locks": current_locks(session, runtime.settings),
             "orders": list(session.scalars(select(Order).order_by(Order.id.desc()).limit(100))),
             "buyers": dict(session.execute(select(Buyer.id, Buyer.name)).tuples().all()),
             "suppliers": dict(session.execute(select(Supplier.id, Supplier.name)).tuples().all()),
             "faxes": list(session.scalars(select(FaxJob).order_by(FaxJob.id.desc()).limit(50))),
             "fax_orders": list(session.scalars(select(FaxOrder).order_by(FaxOrder.id.desc()).limit(100)))},
        )

    @router.get("/invitations/{invitation_id}", response_class=HTMLResponse)
    def invitation_page(invitation_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        inv = session.get(Invitation, invitation_id)
        if inv is None:
            raise HTTPException(404, "no such invitation")
        events = timeline(session, invitation.OBJECT_TYPE, inv.id)
        return templates.TemplateResponse(request, "invitation.html", {"inv": inv, "events": events})

    @router.get("/orders/{order_id}", response_class=HTMLResponse)
    def order_page(order_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        found = session.get(Order, order_id)
        if found is None:
            raise HTTPException(404, "no such order")
        return templates.TemplateResponse(request, "order.html", {
            "order": found, "buyer": session.get(Buyer, found.buyer_id),
            "supplier": session.get(Supplier, found.supplier_id), "lines": orders.lines_of(session, found),
            "documents": documents_of(session, found.id),
            "events": timeline(session, orders.OBJECT_TYPE, found.id)})

    @router.get("/fax-orders/{fax_order_id}", response_class=HTMLResponse)
    def review_page(fax_order_id: int, request: Request, session: Session = Depends(session_dep)) -> Response:
        found = get_or_404(session, FaxOrder, fax_order_id, "fax order")
        products = list(session.scalars(select(Product).where(Product.supplier_id == found.supplier_id)
                                        .order_by(Product.id))) if found.supplier_id else []
        return templates.TemplateResponse(request, "fax_order.html", {
            "fax": fax_order_json(session, found),
            "buyer": session.get(Buyer, found.buyer_id) if found.buyer_id else None,
            "supplier": session.get(Supplier, found.supplier_id) if found.supplier_id else None,
            "products": products,
            "events": timeline(session, fax_orders.OBJECT_TYPE, found.id)})

    return router
