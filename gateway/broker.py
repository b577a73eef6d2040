"""The Dramatiq broker, configured here and nowhere else.

No implicit global broker: ``make_broker`` builds one from the settings and the
actors are declared on it explicitly (gateway/tasks.py). The key namespace
keeps several gateways, or test runs, apart on one Redis.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker


def make_broker(redis_url: str, namespace: str, heartbeat_timeout_ms: int) -> RedisBroker:
    # A worker that dies keeps its unacknowledged messages; another worker's maintenance
    # pass gives them back after heartbeat_timeout. The database sweep is the backstop.
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, namespace=namespace, heartbeat_timeout=heartbeat_timeout_ms
    )
