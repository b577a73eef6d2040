"""Metrics read at scrape time: what the database and Redis hold now, whichever process put it there.

Inbound rows are never deleted, so their count is a true counter (received, processed) beside the
gauge by status; the review backlog is its size and the age of its oldest message; outbound mail,
fax jobs (and any other table with a ``status``, see ``STATUS_COUNTS``) are gauges by status. Queue
depth is read from Dramatiq's keys in Redis. A scrape costs a few GROUP BY queries and one Redis
round trip; a source that fails is reported as ``torii_state_source_up 0`` and the rest still answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflows import clock
from workflows.db import Database
from workflows.models import InboundMessage, InboundStatus

log = logging.getLogger(__name__)

# A probe or a scrape must answer within a few seconds when Redis is gone, not wait for it.
REDIS_TIMEOUT = 1.5


@dataclass(frozen=True)
class StatusCount:
    """One gauge read by one query: its ``SELECT`` gives the labels' values in order, then a count."""

    name: str
    help: str
    labels: tuple[str, ...]
    sql: str


STATUS_COUNTS: tuple[StatusCount, ...] = (
    StatusCount("torii_outbound_messages", "Outbound mail by channel and status", ("channel", "status"),
                "SELECT channel, status, COUNT(*) FROM outbound_messages GROUP BY channel, status"),
    StatusCount("torii_fax_jobs", "Fax jobs by status", ("status",),
                "SELECT status, COUNT(*) FROM fax_jobs GROUP BY status"),
    StatusCount("torii_webhook_deliveries", "Webhook deliveries by status", ("status",),
                "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status"),
)


def probe_redis(url: str) -> redis.Redis:
    """A client that gives up after REDIS_TIMEOUT, once (the broker's own would retry and wait)."""
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                                retry=Retry(NoBackoff(), 0))


class StateCollector(Collector):
    def __init__(self, db: Database, redis_url: str | None, namespace: str, queues: Callable[[], Iterable[str]],
                 counts: Sequence[StatusCount] = STATUS_COUNTS) -> None:
        self.db = db
        self.redis_url = redis_url
        self.namespace = namespace
        self.queues = queues
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("torii_state_source_up", "Whether this scrape could read the source (1) or not (0)",
                               labels=["source"])
        found: list[Metric] = []
        database_ok = True
        try:
            with self.db.sessions() as session:
                found += self._inbound(session)
        except Exception:
            log.warning("metrics: the inbound messages could not be counted", exc_info=True)
            database_ok = False
        for spec in self.counts:
            try:  # each in its own session: a query that fails (a table not made yet) spoils no other
                with self.db.sessions() as session:
                    found.append(self._status_count(session, spec))
            except Exception as exc:
                log.warning("metrics: %s could not be read: %s", spec.name, exc)
                database_ok = False
        up.add_metric(["database"], 1.0 if database_ok else 0.0)
        yield from found
        try:
            depth = self._queue_depth()
        except redis.RedisError as exc:
            log.warning("metrics: Redis could not be read: %s", exc)
            depth = None
        up.add_metric(["redis"], 0.0 if depth is None else 1.0)
        if depth is not None:
            yield depth
        yield up

    def _inbound(self, session: Session) -> list[Metric]:
        by_status = GaugeMetricFamily("torii_inbound_messages", "Inbound messages by channel and status",
                                      labels=["channel", "status"])
        received = CounterMetricFamily("torii_inbound_received", "Inbound messages stored, by channel",
                                       labels=["channel"])
        processed = CounterMetricFamily("torii_inbound_processed", "Inbound messages past 'received' (processed "
                                        "to any status), by channel", labels=["channel"])
        totals: dict[str, list[int]] = {}
        for channel, status, count in session.execute(
                select(InboundMessage.channel, InboundMessage.status, func.count())
                .group_by(InboundMessage.channel, InboundMessage.status)):
            by_status.add_metric([channel, status], count)
            total = totals.setdefault(channel, [0, 0])
            total[0] += count
            total[1] += 0 if status == InboundStatus.RECEIVED else count
        for channel, (all_of_them, done) in sorted(totals.items()):
            received.add_metric([channel], all_of_them)
            processed.add_metric([channel], done)
        waiting, oldest = session.execute(
            select(func.count(), func.min(InboundMessage.received_at))
            .where(InboundMessage.status == InboundStatus.REVIEW)).one()
        backlog = GaugeMetricFamily("torii_review_backlog", "Inbound messages waiting for an operator's decision",
                                    value=waiting)
        age = GaugeMetricFamily("torii_review_oldest_age_seconds", "How long the oldest message in review has been "
                                "waiting since it was received (0: none waits)",
                                value=max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0)
        return [by_status, received, processed, backlog, age]

    @staticmethod
    def _status_count(session: Session, spec: StatusCount) -> Metric:
        gauge = GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels))
        for row in session.execute(text(spec.sql)):
            gauge.add_metric([str(value) for value in row[:-1]], row[-1])
        return gauge

    def _queue_depth(self) -> Metric | None:
        """Messages per Dramatiq queue: waiting, fetched by a worker and not yet acknowledged, delayed, dead.

        Dramatiq's Redis broker keeps, per queue ``q`` under the namespace, the list of waiting ids
        ``ns:q``, every live message in the hash ``ns:q.msgs``, delayed ones (retries, timers) in
        ``ns:q.DQ.msgs`` and dead-lettered ones in the sorted set ``ns:q.XQ``.
        """
        if not self.redis_url:
            return None
        queues = sorted(self.queues())
        client = probe_redis(self.redis_url)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                key = f"{self.namespace}:{queue}"
                pipe.llen(key)
                pipe.hlen(f"{key}.msgs")
                pipe.hlen(f"{key}.DQ.msgs")
                pipe.zcard(f"{key}.XQ")
            replies = pipe.execute()
        finally:
            client.close()
        depth = GaugeMetricFamily("torii_queue_messages", "Messages in each work queue, by state (waiting; "
                                  "in_progress: fetched by a worker; delayed: a retry or timer not due; dead)",
                                  labels=["queue", "state"])
        for i, queue in enumerate(queues):
            waiting, live, delayed, dead = (int(n) for n in replies[i * 4:i * 4 + 4])
            depth.add_metric([queue, "waiting"], waiting)
            depth.add_metric([queue, "in_progress"], max(0, live - waiting))
            depth.add_metric([queue, "delayed"], delayed)
            depth.add_metric([queue, "dead"], dead)
        return depth
