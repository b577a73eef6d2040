"""What every router and console page needs: a session per request, the list cap, timestamps, stored files.

Handlers are plain ``def``: FastAPI runs them on its thread pool, so database work never blocks the
event loop. ``NotFound`` raised here is answered 404 by the app's exception handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends
from fastapi.responses import Response
from sqlalchemy import Select
from sqlalchemy.orm import Session

from gateway.auth import current_principal
from workflows.access import Principal
from workflows.models import Document
from workflows.timeline import event_json, timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# Lists stop here, newest first, so that one request stays cheap however large the tables grow.
LIST_LIMIT = 500

# Who is asking: every handler that reads or changes rows takes it, to see only what it may.
Me = Annotated[Principal, Depends(current_principal)]

Row = TypeVar("Row")
Query = TypeVar("Query", bound=Select[Any])


def session_dependency(runtime: Runtime) -> Callable[[], Iterator[Session]]:
    """A FastAPI dependency: one read session per request, closed when the response is sent."""

    def session_dep() -> Iterator[Session]:
        with runtime.db.sessions() as session:
            yield session

    return session_dep


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def timeline_json(session: Session, object_type: str, object_id: int) -> list[dict[str, Any]]:
    """What happened to the object, oldest first, as every detail answer carries it."""
    return [event_json(e) for e in timeline(session, object_type, object_id)]


def binary_answer(*media_types: str) -> dict[str, Any]:
    """Route options for an answer of bytes, not JSON (a PDF, a mail, a page image): the schema says which."""
    return {"response_class": Response,
            "responses": {200: {"description": f"the {' or '.join(media_types)} itself",
                                "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                            for t in media_types}}}}


def document_response(document: Document) -> Response:
    """A stored document (letter, order sheet, delivery note), shown inline in the browser."""
    return Response(document.data, media_type=document.content_type,
                    headers={"Content-Disposition": f'inline; filename="{document.filename}"'})


def about_object(query: Query, model: Any, object_type: str | None, object_id: int | None) -> Query:
    """Narrow a list of outgoing mail or faxes to those about one object (an invitation, an order ...)."""
    if object_type:
        query = query.where(model.object_type == object_type)
    if object_id is not None:
        query = query.where(model.object_id == object_id)
    return query
