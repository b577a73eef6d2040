"""Webhooks over HTTP: endpoints and their secrets, the events, the delivery log, "send again".

    GET    /api/webhooks/event-types
    GET    /api/webhooks/endpoints                 POST (201: the answer carries the signing secret)
    GET    /api/webhooks/endpoints/{id}            PATCH (url, event_types, description, disabled)  DELETE (disables)
    POST   /api/webhooks/endpoints/{id}/rotate-secret        the old secret signs beside the new one for a while
    POST   /api/webhooks/endpoints/{id}/send-failed-again    every failed delivery to it, again (?since=)
    GET    /api/webhooks/events                    ?type= &object_type= &object_id= &after= (an event id: a cursor)
    GET    /api/webhooks/deliveries                ?endpoint_id= &status= &event_id=
    GET    /api/webhooks/deliveries/{id}           with every try
    POST   /api/webhooks/deliveries/{id}/send-again

All of it is the admin's: endpoints hold secrets, and events speak of every buyer and issuer.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, iso, session_dependency
from gateway.auth import requires
from workflows.access import Level
from workflows.db import after_commit
from workflows.errors import NotFound
from workflows.webhooks import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from workflows.webhooks import deliveries as webhook_deliveries
from workflows.webhooks import endpoints as webhook_endpoints

if TYPE_CHECKING:
    from gateway.runtime import Runtime


class EndpointIn(BaseModel):
    url: str
    event_types: list[str] = Field(default_factory=list, description='"order.confirmed", "order.*"; none: all')
    description: str = ""


class EndpointChange(BaseModel):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    disabled: bool | None = None


def endpoint_json(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
        "event_types": endpoint.event_types, "disabled": endpoint.disabled, "created_at": iso(endpoint.created_at),
        "previous_secret_valid_until": iso(endpoint.previous_secret_until),
    }
    if secret:
        data["secret"] = endpoint.secret
    return data


def event_json(event: WebhookEvent) -> dict[str, Any]:
    return {"id": event.id, "webhook_id": event.msg_id, "type": event.type, "created_at": iso(event.created_at),
            "object": {"type": event.object_type, "id": event.object_id}, "payload": json.loads(event.body)}


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "endpoint_id": delivery.endpoint_id, "event_id": delivery.event_id,
        "webhook_id": delivery.event.msg_id, "event_type": delivery.event.type, "status": delivery.status,
        "attempts": delivery.attempts, "next_attempt_at": iso(delivery.next_attempt_at),
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
        "delivered_at": iso(delivery.delivered_at),
    }


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {"at": iso(attempt.at), "status_code": attempt.status_code, "error": attempt.error,
            "duration_ms": attempt.duration_ms, "response": attempt.response}


def _endpoint(session: Session, endpoint_id: int, lock: bool = False) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return endpoint


def send_again(runtime: Runtime, session: Session, delivery_ids: list[int]) -> list[int]:
    """A new round of tries for these deliveries (the API's and the console's "send again"), each handed to
    the queue once the transaction commits; the ids that exist."""
    again = webhook_deliveries.send_again(session, delivery_ids)

    def enqueue() -> None:
        for delivery_id in again:
            runtime.enqueue_webhook(delivery_id)

    after_commit(session, enqueue)
    return again


def webhooks_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
    session_dep = session_dependency(runtime)

    @router.get("/event-types")
    @requires(Level.ADMIN)
    def event_types() -> list[str]:
        return list(EVENT_TYPES)

    @router.get("/endpoints")
    @requires(Level.ADMIN)
    def list_endpoints(session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        return [endpoint_json(e) for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]

    @router.post("/endpoints", status_code=201)
    @requires(Level.ADMIN)
    def create_endpoint(body: EndpointIn) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            endpoint = webhook_endpoints.create_endpoint(session, body.url, body.event_types, body.description)
            return endpoint_json(endpoint, secret=True)

    @router.get("/endpoints/{endpoint_id}")
    @requires(Level.ADMIN)
    def get_endpoint(endpoint_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        return endpoint_json(_endpoint(session, endpoint_id))

    @router.patch("/endpoints/{endpoint_id}")
    @requires(Level.ADMIN)
    def change_endpoint(endpoint_id: int, body: EndpointChange) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            endpoint = _endpoint(session, endpoint_id, lock=True)
            webhook_endpoints.update_endpoint(endpoint, url=body.url, event_types=body.event_types,
                                              description=body.description, disabled=body.disabled)
            return endpoint_json(endpoint)

    @router.delete("/endpoints/{endpoint_id}")
    @requires(Level.ADMIN)
    def disable_endpoint(endpoint_id: int) -> dict[str, Any]:
        """Disabled, not deleted: its delivery log stays, and PATCH ``disabled: false`` brings it back."""
        with runtime.db.transaction() as session:
            endpoint = _endpoint(session, endpoint_id, lock=True)
            webhook_endpoints.update_endpoint(endpoint, disabled=True)
            return endpoint_json(endpoint)

    @router.post("/endpoints/{endpoint_id}/rotate-secret")
    @requires(Level.ADMIN)
    def rotate_secret(endpoint_id: int) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            endpoint = _endpoint(session, endpoint_id, lock=True)
            webhook_endpoints.rotate_secret(endpoint, runtime.settings.webhook_secret_overlap)
            return endpoint_json(endpoint, secret=True)

    @router.post("/endpoints/{endpoint_id}/send-failed-again")
    @requires(Level.ADMIN)
    def send_failed_again(endpoint_id: int, since: datetime | None = None) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            _endpoint(session, endpoint_id)
            again = send_again(runtime, session, webhook_deliveries.failed_ids(session, endpoint_id, since))
            return {"deliveries": again}

    @router.get("/events")
    @requires(Level.ADMIN)
    def list_events(event_type: str | None = Query(None, alias="type"), object_type: str | None = None,
                    object_id: int | None = None, after: int | None = None,
                    session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        """Oldest first from ``after``: a platform that missed deliveries can page through what happened."""
        query = select(WebhookEvent).order_by(WebhookEvent.id).limit(LIST_LIMIT)
        if event_type:
            query = query.where(WebhookEvent.type == event_type)
        if object_type:
            query = query.where(WebhookEvent.object_type == object_type)
        if object_id is not None:
            query = query.where(WebhookEvent.object_id == object_id)
        if after is not None:
            query = query.where(WebhookEvent.id > after)
        return [event_json(e) for e in session.scalars(query)]

    @router.get("/deliveries")
    @requires(Level.ADMIN)
    def list_deliveries(endpoint_id: int | None = None, status: str | None = None, event_id: int | None = None,
                        session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(LIST_LIMIT)
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if status:
            query = query.where(WebhookDelivery.status == status)
        if event_id is not None:
            query = query.where(WebhookDelivery.event_id == event_id)
        return [delivery_json(d) for d in session.scalars(query)]

    @router.get("/deliveries/{delivery_id}")
    @requires(Level.ADMIN)
    def get_delivery(delivery_id: int, session: Session = Depends(session_dep)) -> dict[str, Any]:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"webhook delivery {delivery_id} does not exist")
        attempts = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                                   .order_by(WebhookAttempt.id))
        return {**delivery_json(delivery), "payload": json.loads(delivery.event.body),
                "tries": [attempt_json(a) for a in attempts]}

    @router.post("/deliveries/{delivery_id}/send-again", status_code=202)
    @requires(Level.ADMIN)
    def send_delivery_again(delivery_id: int) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            if not send_again(runtime, session, [delivery_id]):
                raise NotFound(f"webhook delivery {delivery_id} does not exist")
            delivery = session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            return delivery_json(delivery)

    return router
