"""Hooks through which workflows report how long their slow parts took, for the gateway's metrics.

Workflows may not import the gateway (the layers point one way), so the gateway sets these at start-up
(``gateway.metrics.install_observers``); until it does they do nothing.
"""

from __future__ import annotations

from collections.abc import Callable


def _nothing(source: str, seconds: float) -> None:
    pass


# One page read: how ("ocr", "text", "form", "faxback") and in how many seconds.
page_read: Callable[[str, float], None] = _nothing
