"""The liveness check: answers as soon as the web server is up, without touching the database or Redis."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.auth import public


def health_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/health")
    @public
    def health() -> dict[str, Any]:
        return {"ok": True}

    return router
