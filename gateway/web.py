"""The web app: the REST API (``gateway.api``, one router per resource) and the operator console.

This module only assembles them. Every route is guarded by one global dependency
(``gateway.auth.authorizer``: default deny); the domain's errors become JSON answers here, once for
every router, so handlers raise ``InvalidRequest`` (422), ``TransitionRefused`` and ``Conflict`` (409)
and ``NotFound`` (404) freely. Every answer carries the security headers below.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.catalog import catalog_router
from gateway.api.fax_jobs import fax_jobs_router
from gateway.api.fax_orders import fax_orders_router
from gateway.api.health import health_router
from gateway.api.invitations import invitations_router
from gateway.api.locks import locks_router
from gateway.api.messages import messages_router
from gateway.api.metrics import metrics_router
from gateway.api.orders import orders_router
from gateway.api.outbox import outbox_router
from gateway.api.registrations import registrations_router
from gateway.api.users import users_router
from gateway.api.webhooks import webhooks_router
from gateway.auth import Forbidden, Unauthenticated, authorizer
from gateway.console import console_router
from gateway.console.login import login_page
from gateway.console.pages import STATIC_DIR, render
from gateway.openapi import documented_schema
from gateway.register_pages import register_router
from gateway.runtime import Runtime
from gateway.user_pages import user_pages_router
from workflows.errors import Conflict, InvalidRequest, NotFound, TransitionRefused

log = logging.getLogger(__name__)

# No inline script anywhere (pages use /static/console.js); inline style attributes place the boxes
# drawn over fax pages. Nothing may frame the console.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (a pure ASGI middleware: it never buffers a body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def create_app(runtime: Runtime) -> FastAPI:
    # FastAPI's own /docs pages load their script from a CDN (these machines are offline) and would
    # bypass the global dependency: the schema is served by a guarded route instead.
    app = FastAPI(title="Torii", version="0.1.0", summary="Email and fax gateway", docs_url=None,
                  redoc_url=None, openapi_url=None, dependencies=[Depends(authorizer(runtime))])
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(InvalidRequest)
    def _invalid(_request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    # A number no column can hold (an id of 30 digits) is refused by the driver: SQLite raises
    # OverflowError, PostgreSQL a DataError. Either is the request's fault, never the server's.
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
        log.info("request refused: a value out of the database's range (%s)", type(exc).__name__)
        return JSONResponse({"error": "a number or text in the request is out of range"}, status_code=422)

    @app.exception_handler(TransitionRefused)
    def _refused(_request: Request, exc: TransitionRefused) -> JSONResponse:
        return JSONResponse({"error": exc.reason, "state": exc.state}, status_code=409)

    @app.exception_handler(Conflict)
    def _conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound) -> Response:
        if _wants_html(request):
            return render(request, "error.html", {"status": 404, "message": str(exc)}, status_code=404)
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(request: Request, _exc: Unauthenticated) -> Response:
        if _wants_html(request) and request.method == "GET":
            return login_page(request, status_code=401)
        return JSONResponse({"error": "authentication required: a session or an API token"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="torii"'})

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_html(request):
            return render(request, "error.html", {"status": 403, "message": str(exc)}, status_code=403)
        return JSONResponse({"error": str(exc)}, status_code=403)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return documented_schema(app)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(catalog_router(runtime))
    app.include_router(users_router(runtime))
    app.include_router(orders_router(runtime))
    app.include_router(fax_orders_router(runtime))
    app.include_router(health_router(runtime))
    app.include_router(metrics_router(runtime))
    app.include_router(invitations_router(runtime))
    app.include_router(fax_jobs_router(runtime))
    app.include_router(locks_router(runtime))
    app.include_router(outbox_router(runtime))
    app.include_router(messages_router(runtime))
    app.include_router(webhooks_router(runtime))
    app.include_router(registrations_router(runtime))
    app.include_router(console_router(runtime), include_in_schema=False)  # pages, not API
    app.include_router(register_router(runtime), include_in_schema=False)
    app.include_router(user_pages_router(runtime), include_in_schema=False)
    return app



