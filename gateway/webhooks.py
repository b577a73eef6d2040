"""Sending one webhook try: Standard Webhooks headers, one HTTP POST, the outcome recorded.

The body is the event's stored JSON, byte for byte the same on every try; ``webhook-id`` is the
event's id (the receiver drops what it has seen); ``webhook-timestamp`` is when this try is made and
``webhook-signature`` signs all three, once per secret still valid (after a rotation: the new and the
old one, space-separated, as the spec allows). A 2xx is delivered; anything else, a refused
connection or no answer within the timeout, is tried again on the schedule. Redirects are not
followed: an endpoint that moved must be updated, not guessed at.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from workflows import clock
from workflows.config import Settings
from workflows.db import Database
from workflows.webhooks import deliveries
from workflows.webhooks.deliveries import Try

log = logging.getLogger(__name__)

USER_AGENT = "Torii-Webhooks/1"


def signed_headers(attempt: Try, at: datetime) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(attempt.msg_id, at, attempt.body) for secret in attempt.secrets)
    return {"webhook-id": attempt.msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json", "user-agent": USER_AGENT}


def _post(client: httpx.Client, attempt: Try, timeout: float) -> tuple[int | None, str | None, str]:
    # The wall clock's, not business time's: a gateway living at another moment (TORII_CLOCK_SHIFT)
    # must still sign what the receiver's clock calls now.
    headers = signed_headers(attempt, clock.wall_now())
    try:
        response = client.post(attempt.url, content=attempt.body.encode(), headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return None, f"no answer within {timeout:g} s", ""
    except httpx.HTTPError as exc:
        return None, f"could not reach the endpoint: {type(exc).__name__}: {exc}", ""
    text = response.text[:deliveries.RESPONSE_KEPT]
    if 200 <= response.status_code < 300:
        return response.status_code, None, text
    return response.status_code, f"the endpoint answered {response.status_code}", text


def deliver_webhook(db: Database, settings: Settings, client: httpx.Client, delivery_id: int,
                    retry_in: Callable[[int, float], None],
                    observe: Callable[[str, str, float], None] | None = None) -> None:
    """Make the try that is due for ``delivery_id`` (if any), record it, and have the next one scheduled.

    ``retry_in(delivery_id, seconds)`` enqueues the next try; ``observe(event_type, outcome, seconds)``
    is told of every try made (metrics).
    """
    with db.transaction() as session:
        attempt = deliveries.claim(session, settings, delivery_id)
    if attempt is None:
        return
    started = time.monotonic()
    status_code, error, text = _post(client, attempt, settings.webhook_timeout)
    elapsed = time.monotonic() - started
    with db.transaction() as session:
        delay = deliveries.record(session, settings, delivery_id, status_code=status_code, error=error,
                                  duration_ms=round(elapsed * 1000), response=text)
    if observe is not None:
        observe(attempt.event_type, "delivered" if error is None else "failed" if delay is None else "retrying",
                elapsed)
    if error is None:
        log.info("webhook %s (%s) delivered to %s", attempt.msg_id, attempt.event_type, attempt.url)
    elif delay is None:
        log.warning("webhook %s (%s) to %s failed for good: %s", attempt.msg_id, attempt.event_type, attempt.url,
                    error)
    else:
        log.info("webhook %s (%s) to %s: %s; trying again in %.0f s", attempt.msg_id, attempt.event_type,
                 attempt.url, error, delay)
        retry_in(delivery_id, delay)
