"""Endpoints: where the platform listens, what it wants to hear, and the secrets deliveries are signed with."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from workflows import clock
from workflows.errors import InvalidRequest
from workflows.webhooks.events import unknown_patterns
from workflows.webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes one: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"a webhook URL is http:// or https:// with a host, not {url!r}")
    return url.strip()


def _checked_types(event_types: Sequence[str]) -> list[str]:
    unknown = unknown_patterns(event_types)
    if unknown:
        raise InvalidRequest(f"no event type is called {', '.join(map(repr, unknown))} (GET /api/webhooks/event-types)")
    return list(dict.fromkeys(event_types))


def create_endpoint(session: Session, url: str, event_types: Sequence[str] = (), description: str = ""
                    ) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=_checked_url(url), event_types=_checked_types(event_types),
                               description=description, secret=new_secret())
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, *, url: str | None = None, event_types: Sequence[str] | None = None,
                    description: str | None = None, disabled: bool | None = None) -> None:
    if url is not None:
        endpoint.url = _checked_url(url)
    if event_types is not None:
        endpoint.event_types = _checked_types(event_types)
    if description is not None:
        endpoint.description = description
    if disabled is not None:
        endpoint.disabled = disabled


def rotate_secret(endpoint: WebhookEndpoint, overlap: timedelta) -> str:
    """A new secret; the old one goes on signing beside it for ``overlap``, so no delivery fails to verify
    while the receiver is switched to the new one."""
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, clock.now() + overlap
    endpoint.secret = new_secret()
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint) -> tuple[str, ...]:
    """The secrets a delivery is signed with now: the current one, and the previous during its overlap."""
    previous = endpoint.previous_secret
    until = endpoint.previous_secret_until
    if previous and until is not None and until > clock.now():
        return endpoint.secret, previous
    return (endpoint.secret,)
