"""The web app: the REST API (``gateway.api``, one router per resource) and the operator console.

This module only assembles them: the domain's errors become JSON answers here, once for every router,
so handlers raise ``InvalidRequest`` (422), ``TransitionRefused`` (409) and ``NotFound`` (404) freely.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.api.catalog import catalog_router
from gateway.api.fax_jobs import fax_jobs_router
from gateway.api.fax_orders import fax_orders_router
from gateway.api.health import health_router
from gateway.api.invitations import invitations_router
from gateway.api.locks import locks_router
from gateway.api.messages import messages_router
from gateway.api.orders import orders_router
from gateway.api.outbox import outbox_router
from gateway.console import console_router
from gateway.runtime import Runtime
from workflows.errors import InvalidRequest, NotFound, TransitionRefused


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Torii", version="0.1.0", summary="Email and fax gateway")

    @app.exception_handler(InvalidRequest)
    def _invalid(_request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(TransitionRefused)
    def _refused(_request: Request, exc: TransitionRefused) -> JSONResponse:
        return JSONResponse({"error": exc.reason, "state": exc.state}, status_code=409)

    @app.exception_handler(NotFound)
    def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    app.include_router(catalog_router(runtime))
    app.include_router(orders_router(runtime))
    app.include_router(fax_orders_router(runtime))
    app.include_router(health_router())
    app.include_router(invitations_router(runtime))
    app.include_router(fax_jobs_router(runtime))
    app.include_router(locks_router(runtime))
    app.include_router(outbox_router(runtime))
    app.include_router(messages_router(runtime))
    app.include_router(console_router(runtime))
    return app
