"""``GET /metrics``: Prometheus' text format. Not public: a viewer's session or a ``read`` token
(Prometheus sends one with ``authorization: {credentials: TOKEN}`` in its scrape config)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.metrics import exposition
from gateway.runtime import Runtime
from gateway.state_metrics import StateCollector


def metrics_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    state = StateCollector(runtime.db, runtime.settings.redis_url, runtime.settings.redis_namespace,
                           runtime.broker.get_declared_queues)

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = exposition(state, request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    return router
