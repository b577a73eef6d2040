"""What every console screen renders with: the templates, who is looking, the CSRF token, pagination.

Templates live in ``templates/web`` and autoescape everything, so whatever a partner wrote (a
subject, a From name, a fax's text) reaches the page as text, never as markup. Pages carry no
inline script (the Content-Security-Policy forbids it): behaviour is ``static/console.js``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from workflows.clock import TOKYO
from workflows.mail import TEMPLATES_DIR

WEB_DIR = TEMPLATES_DIR / "web"
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=str(WEB_DIR))


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as a Japanese operator reads it: Tokyo time (the database keeps UTC)."""
    return value.astimezone(TOKYO).strftime(fmt) if value else ""


templates.env.filters["jst"] = jst

PAGE_SIZE = 50
Query = TypeVar("Query", bound=Select[Any])


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
           ) -> Response:
    principal = getattr(request.state, "principal", None)
    return templates.TemplateResponse(request, name, {
        "me": principal, "csrf_token": principal.csrf_token if principal else None, **(context or {}),
    }, status_code=status_code)


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, where it is, and the links to the pages beside it."""

    rows: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: Session, query: Query, number: int, size: int = PAGE_SIZE) -> Page:
    """The ``number``-th page (1-based) of ``query``'s rows; the query carries its own ORDER BY."""
    number = max(1, number)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(rows, number, size, total)
