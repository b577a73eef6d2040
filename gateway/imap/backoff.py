"""How long a poller waits before it reconnects, or retries a store that failed."""

from __future__ import annotations

import random


class Backoff:
    """Exponential delays with jitter: 0.5 s, 1 s, 2 s ... up to ``maximum``."""

    def __init__(self, minimum: float = 0.5, maximum: float = 60.0) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.failures = 0

    def next(self) -> float:
        delay = min(self.maximum, self.minimum * 2 ** min(self.failures, 32))
        self.failures += 1
        # Half fixed, half random: pollers that failed together do not come back together.
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.failures = 0

