"""What the public pages' forms need: a CSRF token without a session, a rate limit per client, and the
page-and-post steps every public flow (registration, buyers' users) takes alike.

Public forms (the login form, the registration and user pages) have no session to bind a CSRF token to,
so each carries a double-submit token: a random value both in a cookie only that page's path sees and
in the form, which another site can set in neither. Posts are counted per client address and hour
in Redis; over ``public_form_limit`` the page answers 429.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import redis
from fastapi import Request
from fastapi.responses import Response

from gateway.console.pages import render
from workflows import clock
from workflows.config import Settings

TOO_MANY = ("送信が多すぎます。しばらくしてからお試しください。", "Too many attempts; please try again later.")
FORM_EXPIRED = ("フォームの有効期限が切れました。もう一度お試しください。", "The form expired; please try again.")


def form_cookie(path: str) -> str:
    """The cookie of the form at ``path``: one name per page, because a page's cookie also reaches the pages
    below its path (``/register``'s reaches ``/register/{token}``), and of two cookies of one name the
    server cannot tell which is whose."""
    return "torii_form_" + hashlib.sha256(path.encode()).hexdigest()[:12]


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def set_form_cookie(request: Request, response: Response, token: str, path: str) -> None:
    response.set_cookie(form_cookie(path), token, httponly=True, samesite="strict", path=path,
                        secure=request.url.scheme == "https")


def form_token_ok(request: Request, sent: str, path: str) -> bool:
    expected = request.cookies.get(form_cookie(path), "")
    return bool(expected) and secrets.compare_digest(expected, sent)


class RateLimit:
    """At most ``limit`` posts per client address and hour (a fixed window in Redis, shared by all web processes)."""

    def __init__(self, redis_url: str, namespace: str, limit: int) -> None:
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.namespace = namespace
        self.limit = limit

    def allow(self, request: Request, bucket: str) -> bool:
        client = request.client.host if request.client else "?"
        hour = clock.now().strftime("%Y%m%d%H")
        key = f"{self.namespace}:rate:{bucket}:{client}:{hour}"
        count = int(self.redis.incr(key))
        if count == 1:
            self.redis.expire(key, 3700)
        return count <= self.limit


Refusal = Callable[[Request, tuple[str, str], int], Response]


class PublicForms:
    """The pages of one public flow: each form page rendered with a fresh token in its own cookie, and each
    post read only within the rate limit and with that token; else ``refuse`` answers (a page of the flow's
    own look, with a message in Japanese and English)."""

    def __init__(self, settings: Settings, refuse: Refusal, **context: Any) -> None:
        assert settings.redis_url
        self.limit = RateLimit(settings.redis_url, settings.redis_namespace, settings.public_form_limit)
        self.refuse = refuse
        self.context = context

    def page(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        token = new_form_token()
        response = render(request, name, {"form_token": token, **self.context, **context}, status_code=status_code)
        set_form_cookie(request, response, token, request.url.path)
        return response

    async def posted(self, request: Request, bucket: str) -> dict[str, str] | Response:
        """The form's fields, or the answer to a post that may not go on (rate, CSRF)."""
        if not self.limit.allow(request, bucket):
            return self.refuse(request, TOO_MANY, 429)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not form_token_ok(request, form.get("csrf_token", ""), request.url.path):
            return self.refuse(request, FORM_EXPIRED, 403)
        return form
