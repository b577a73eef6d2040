"""Health probes, open to anyone: liveness (``/healthz``, and ``/api/health`` as it always was) answers as
soon as the web server is up without touching anything; readiness (``/readyz``) asks the database and
Redis, each within a few seconds, and answers 503 with the reason of what failed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gateway.auth import public
from gateway.runtime import Runtime
from gateway.state_metrics import probe_redis


def _database(runtime: Runtime) -> str:
    with runtime.db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "ok"


def _redis(runtime: Runtime) -> str:
    if not runtime.settings.redis_url:
        return "no REDIS_URL"
    client = probe_redis(runtime.settings.redis_url)
    try:
        return "ok" if client.ping() else "no answer to PING"
    finally:
        client.close()


def readiness(runtime: Runtime) -> dict[str, str]:
    """Each check's "ok", or why not."""
    checks = {}
    for name, check in (("database", _database), ("redis", _redis)):
        try:
            checks[name] = check(runtime)
        except Exception as exc:
            checks[name] = f"{type(exc).__name__}: {exc}"[:300]
    return checks


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/api/health")
    @router.get("/healthz")
    @public
    def health() -> dict[str, Any]:
        return {"ok": True}

    @router.get("/readyz")
    @public
    def ready() -> JSONResponse:
        checks = readiness(runtime)
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

    return router
