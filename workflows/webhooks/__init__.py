"""Webhooks: the platform hears of every change it cares about, signed, at least once, in order of tries.

    events      which state changes are events; written in the change's own transaction
    endpoints   where the platform listens, the event types it wants, the signing secrets and their rotation
    deliveries  one event to one endpoint: claimed, tried, logged, retried on a schedule, then failed
    models      the rows

Signing and sending (Standard Webhooks headers, HTTP) happen at the edge, in ``gateway.webhooks``.
"""

from workflows.webhooks import events as events  # registers the session hooks that write events
from workflows.webhooks.events import EVENT_TYPES, matches
from workflows.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = ["EVENT_TYPES", "DeliveryStatus", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
           "events", "matches"]
