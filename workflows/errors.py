"""The gateway's exceptions, one tree.

    ToriiError
     ├── IntakeError            an inbound item could not be stored; SMTP answers 451
     ├── TransitionRefused      an event is not allowed in the object's current state
     ├── NotFound               an API or task names an object that does not exist
     ├── InvalidRequest         an API body is missing or has a wrong field
     ├── Conflict               the request clashes with another record (an email another user has); 409
     └── DeliveryError          an outbound message could not be handed over
          ├── TemporaryDeliveryError   retry later with backoff (SMTP 4xx, busy line)
          └── PermanentDeliveryError   never retried (SMTP 5xx, bad address)

Library errors are translated into these at the boundary with ``raise X(...) from exc``.
"""

from __future__ import annotations


class ToriiError(Exception):
    """Root of every error the gateway raises on purpose."""


class IntakeError(ToriiError):
    """Raised when an inbound message cannot be stored durably."""


class TransitionRefused(ToriiError):
    """Raised when a workflow event is not allowed in the current state."""

    def __init__(self, machine: str, state: str, trigger: str, reason: str) -> None:
        super().__init__(f"{machine}: {trigger!r} refused in state {state!r}: {reason}")
        self.machine = machine
        self.state = state
        self.trigger = trigger
        self.reason = reason


class NotFound(ToriiError):
    """Raised when an object named by an API call or a task does not exist."""


class InvalidRequest(ToriiError):
    """Raised when an API request body is missing a field or has a bad value."""


class Conflict(ToriiError):
    """Raised when a request would make a record clash with another: an email address another user has."""


class DeliveryError(ToriiError):
    """Raised by a transport that could not hand a message over."""


class TemporaryDeliveryError(DeliveryError):
    """Raised for failures worth retrying: SMTP 4xx, connection refused, busy fax line."""


class PermanentDeliveryError(DeliveryError):
    """Raised for failures that retrying cannot fix: SMTP 5xx, malformed address."""
