"""Outgoing fax jobs over HTTP: what was faxed or is waiting to be, with its attempts and failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, about_object, iso, session_dependency
from workflows.access import visible
from workflows.models import FaxJob

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def fax_json(job: FaxJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "created_at": iso(job.created_at),
        "object": {"type": job.object_type, "id": job.object_id},
        "kind": job.kind,
        "number": job.number,
        "title": job.title,
        "status": job.status,
        "failure": job.failure,
        "attempts": job.attempts,
        "next_attempt_at": iso(job.next_attempt_at),
        "transmission_ref": job.transmission_ref,
        "last_error": job.last_error,
    }


def fax_jobs_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/api/fax")
    def list_fax_jobs(me: Me, object_type: str | None = None, object_id: int | None = None,
                      session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        query = about_object(visible(select(FaxJob).order_by(FaxJob.id.desc()).limit(LIST_LIMIT), FaxJob, me),
                             FaxJob, object_type, object_id)
        return [fax_json(job) for job in reversed(list(session.scalars(query)))]

    return router
