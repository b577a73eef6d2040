"""What the public pages' forms need: a CSRF token without a session, and a rate limit per client.

Public forms (the login form, the registration pages) have no session to bind a CSRF token to, so
each carries a double-submit token: a random value both in a cookie only that page's path sees and
in the form, which another site can set in neither. Posts are counted per client address and hour
in Redis; over ``public_form_limit`` the page answers 429.
"""

from __future__ import annotations

import secrets

import redis
from fastapi import Request
from fastapi.responses import Response

from workflows import clock

FORM_COOKIE = "torii_form"


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def set_form_cookie(request: Request, response: Response, token: str, path: str) -> None:
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", path=path,
                        secure=request.url.scheme == "https")


def form_token_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(FORM_COOKIE, "")
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
