"""The pollers' threads: one per configured mailbox, started and stopped together by ``torii worker``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import redis

from gateway.imap.config import MailboxConfig
from gateway.imap.poller import ImapPoller
from workflows.db import Database

log = logging.getLogger(__name__)


class ImapPollers:
    """One thread per mailbox, each running an ``ImapPoller`` until ``stop``."""

    def __init__(self, pollers: Iterable[ImapPoller], redis_client: redis.Redis | None = None) -> None:
        """``redis_client``: closed by ``stop`` (the pollers' shared client, when they were given one)."""
        self.pollers = list(pollers)
        self.redis_client = redis_client
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=p.run, args=(self.stopping,), name=f"torii-imap-{p.name}",
                                         daemon=True) for p in self.pollers]

    def start(self) -> ImapPollers:
        for thread in self.threads:
            thread.start()
        if self.threads:
            log.info("imap: polling %d mailbox(es): %s", len(self.pollers), ", ".join(p.name for p in self.pollers))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.redis_client is not None:
            self.redis_client.close()


def start_pollers(
    configs: Sequence[MailboxConfig],
    db: Database,
    enqueue: Callable[[int], None] | None,
    redis_url: str,
    prefix: str,
) -> ImapPollers:
    """Start one poller thread per mailbox; ``stop()`` the result to end them (leases are released)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=10)
    return ImapPollers((ImapPoller(c, db, enqueue, client, prefix) for c in configs), client).start()
