"""Default deny: every route needs a principal of the right level, unless it is declared public.

:func:`authorizer` is the app's one global dependency, so it guards every route, those added later
included. What a route needs follows from its method (reading ``READ``, anything else ``WRITE``)
unless its endpoint says otherwise with :func:`requires` or :func:`public`. The principal is an API
token (``Authorization: Bearer``) or an operator's session cookie; a request carried by the cookie
that changes anything must also send the session's CSRF token (header ``X-CSRF-Token`` or form
field ``csrf_token``), so another site cannot make an operator's browser act.

No or a bad credential answers 401, too low a level 403; rows out of a principal's reach answer 404
(``workflows.access.get_visible``). The principal is left on ``request.state`` for
:func:`current_principal` and set as the timeline's actor for the rest of the request.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from workflows import accounts, api_tokens
from workflows.access import Level, Principal
from workflows.timeline import ACTOR

if TYPE_CHECKING:
    from gateway.runtime import Runtime

SESSION_COOKIE = "torii_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ACCESS = "torii_access"
_UNSET = object()

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Unauthenticated(Exception):
    """No credential, or one that does not hold (unknown, expired, revoked)."""


class Forbidden(Exception):
    """A credential that holds, but not for this: too low a level, or a missing or wrong CSRF token."""


def public(endpoint: Endpoint) -> Endpoint:
    """Open to anyone: health probes, the login page, the pages a partner's flow needs."""
    setattr(endpoint, _ACCESS, None)
    return endpoint


def requires(level: Level) -> Callable[[Endpoint], Endpoint]:
    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ACCESS, level)
        return endpoint

    return mark


def required_level(endpoint: Any, method: str) -> Level | None:
    """What the route needs; None: it is public."""
    declared = getattr(endpoint, _ACCESS, _UNSET)
    if declared is not _UNSET:
        return declared if isinstance(declared, Level) else None
    return Level.READ if method in SAFE_METHODS else Level.WRITE


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authorizer(runtime: Runtime) -> Callable[[Request], Awaitable[None]]:
    def identify(request: Request) -> tuple[Principal | None, bool]:
        """(principal, whether it came by the session cookie)."""
        bearer = _bearer(request)
        cookie = request.cookies.get(SESSION_COOKIE)
        with runtime.db.sessions() as session:
            if bearer is not None:
                found = api_tokens.token_principal(session, bearer)
            elif cookie:
                found = accounts.session_principal(session, runtime.settings, cookie)
            else:
                return None, False
        if found is not None and found.stale:
            with runtime.db.transaction() as session:
                if bearer is not None:
                    api_tokens.touch_token(session, bearer)
                else:
                    accounts.touch_session(session, cookie or "")
        return (found.principal if found else None), bearer is None

    async def authorize(request: Request) -> None:
        level = required_level(request.scope.get("endpoint"), request.method)
        if level is None:
            return
        principal, by_cookie = await run_in_threadpool(identify, request)
        if principal is None:
            raise Unauthenticated()
        if by_cookie and request.method not in SAFE_METHODS and not await _csrf_ok(request, principal):
            raise Forbidden("missing or wrong CSRF token")
        if not principal.may(level):
            raise Forbidden(f"{principal.actor} may not do this (needs {level.name.lower()})")
        request.state.principal = principal
        ACTOR.set(principal.actor)

    return authorize


async def _csrf_ok(request: Request, principal: Principal) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    return bool(sent) and bool(expected) and secrets.compare_digest(sent or "", expected)


def current_principal(request: Request) -> Principal:
    """A FastAPI dependency: who is asking (set by the authorizer; public routes have nobody)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthenticated()
    return principal  # type: ignore[no-any-return]
