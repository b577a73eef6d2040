"""Credential locks over HTTP: senders and temporary IDs locked after too many wrong credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from gateway.api.shared import Me, iso, session_dependency
from workflows.credential_answers import current_locks

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def locks_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/api/locks")
    def locks(me: Me, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        """Senders and temporary IDs locked after too many wrong credentials (for unconfined principals)."""
        if me.scoped:
            return []
        return [{"kind": lock.kind, "who": lock.who, "failures": lock.failures, "until": iso(lock.until)}
                for lock in current_locks(session, runtime.settings)]

    return router
