"""The Redis lease that lets one poller at a time work a mailbox, whatever the number of gateway processes.

The poller holds ``PREFIX:imap-lock:NAME`` (SET NX PX with a random token, renewed every third of its
lifetime, deleted on exit only if it is still ours). The others try again every sixth of the lifetime;
if a holder dies without releasing, its lease expires and another poller takes over. The lease saves
work; it is not what keeps a message single (the store's deduplication is), so a poller that loses it
in the middle of a batch does no harm.
"""

from __future__ import annotations

import time
import uuid

import redis


class RedisLease:
    """A lock that expires: SET NX PX with a random token; renewed and deleted only by its holder."""

    _RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
              "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end")
    _RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                "return redis.call('del', KEYS[1]) else return 0 end")

    def __init__(self, client: redis.Redis, key: str, ttl: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = max(int(ttl * 1000), 100)
        self.token = uuid.uuid4().hex
        self.held = False
        self._renewed_at = 0.0
        self._renew = client.register_script(self._RENEW)
        self._release = client.register_script(self._RELEASE)

    def acquire(self) -> bool:
        """True if this lease is ours now (newly taken, or still ours)."""
        if self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            self.held = True
            self._renewed_at = time.monotonic()
            return True
        return self.renew()

    def renew(self) -> bool:
        """Extend the lease if it is still ours; False (and not held) if it is not."""
        self.held = bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))
        if self.held:
            self._renewed_at = time.monotonic()
        return self.held

    def keep(self) -> bool:
        """Renew when a third of the lifetime has passed; False if the lease was lost."""
        if not self.held:
            return False
        if time.monotonic() - self._renewed_at < self.ttl_ms / 3000:
            return True
        return self.renew()

    def release(self) -> None:
        if self.held:
            self.held = False
            self._release(keys=[self.key], args=[self.token])

