"""The console's webhooks: where the platform listens, and every delivery with its tries; "send again".

    GET  /webhooks                               endpoints, then deliveries ?status= &endpoint= &page=
    GET  /webhooks/deliveries/{id}               one delivery: its event's payload and every try
    POST /webhooks/deliveries/{id}/send-again    a new round of tries, the same webhook-id

The admin's only, like the API's webhooks: endpoints hold secrets, events speak of every buyer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import session_dependency
from gateway.api.webhooks import send_again
from gateway.auth import requires
from gateway.console.pages import paginate, render
from workflows.access import Level
from workflows.errors import NotFound
from workflows.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def webhooks_console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/webhooks")
    @requires(Level.ADMIN)
    def webhooks_page(request: Request, status: str = "", endpoint: str = "", page: str = "1",
                      session: Session = Depends(session_dep)) -> Response:
        endpoints = list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
        filters: dict[str, str] = {}
        if status in set(DeliveryStatus):
            query, filters["status"] = query.where(WebhookDelivery.status == status), status
        if endpoint.isdigit():
            query, filters["endpoint"] = query.where(WebhookDelivery.endpoint_id == int(endpoint)), endpoint
        number = int(page) if page.isdigit() else 1
        return render(request, "webhooks.html", {
            "endpoints": endpoints, "page": paginate(session, query, number), "filters": filters,
            "statuses": list(DeliveryStatus), "form": {"status": status, "endpoint": endpoint},
        })

    @router.get("/webhooks/deliveries/{delivery_id}")
    @requires(Level.ADMIN)
    def delivery_page(request: Request, delivery_id: int, session: Session = Depends(session_dep)) -> Response:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"webhook delivery {delivery_id} does not exist")
        tries = list(session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                                     .order_by(WebhookAttempt.id)))
        payload = json.dumps(json.loads(delivery.event.body), ensure_ascii=False, indent=2)
        return render(request, "webhook_delivery.html", {
            "delivery": delivery, "endpoint": session.get(WebhookEndpoint, delivery.endpoint_id), "tries": tries,
            "payload": payload})

    @router.post("/webhooks/deliveries/{delivery_id}/send-again")
    @requires(Level.ADMIN)
    def send_delivery_again(delivery_id: int) -> Response:
        with runtime.db.transaction() as session:
            if not send_again(runtime, session, [delivery_id]):
                raise NotFound(f"webhook delivery {delivery_id} does not exist")
        return RedirectResponse(f"/webhooks/deliveries/{delivery_id}", status_code=303)

    return router
