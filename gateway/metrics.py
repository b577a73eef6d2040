"""Metrics observed as the work happens: processing times, OCR per page, send and webhook attempts.

The work happens in ``torii worker`` processes (the children of ``torii up``) and ``/metrics`` is
answered by another one, so these use prometheus_client's multiprocess mode whenever
``PROMETHEUS_MULTIPROC_DIR`` is set: each process writes its values to files there and the process
serving ``/metrics`` adds them up (``exposition``). ``torii up`` sets it, to ``TORII_HOME/metrics``,
before it starts the workers (``use_multiprocess_dir``). prometheus_client decides the mode when it
is first imported, so a process already running keeps its own in-memory values: ``torii up`` itself
only serves, it observes nothing here. Without the variable (one process: tests, ``torii worker``
alone), the values stay in this process's default registry.

What the database and Redis say (counts by status, backlog, queue depth) is read at scrape time
instead (``gateway.state_metrics``): right whichever process wrote it, and nothing to add up.
All metric definitions live here, at the edge: ``workflows`` reports through ``workflows.observe``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from workflows import observe
from workflows.inbound.step import Outcome

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A run of the pipeline takes milliseconds for a reply and seconds for a faxed page (OCR).
PROCESSING_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# From the 250 at DATA to the stored outcome: the queue's wait on top; minutes mean the workers lag.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
PAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

INBOUND_PROCESSING = Histogram(
    "torii_inbound_processing_seconds", "Time one run of the inbound pipeline took, by the status it ended in "
    "(error: it raised and will be retried)", ["status"], buckets=PROCESSING_BUCKETS)
INBOUND_LATENCY = Histogram(
    "torii_inbound_latency_seconds", "Time from an inbound message's receipt to its stored outcome, by status",
    ["status"], buckets=LATENCY_BUCKETS)
OCR_PAGE = Histogram(
    "torii_ocr_page_seconds", "Time reading one faxed or mailed page took, by how it was read (ocr: Tesseract; "
    "text: the PDF's text layer; form: the gateway's order form; faxback: an invitation's fax-back form)",
    ["source"], buckets=PAGE_BUCKETS)
OUTBOUND_ATTEMPTS = Counter(
    "torii_outbound_attempts", "Attempts to send outbound mail and faxes, by channel and outcome (sent, retrying, "
    "failed; handed_over: a fax mailed to the fax service, its report comes later)", ["channel", "outcome"])
WEBHOOK_ATTEMPTS = Counter(
    "torii_webhook_attempts", "Webhook delivery attempts, by event type and outcome (delivered, retrying, failed)",
    ["event_type", "outcome"])
WEBHOOK_SECONDS = Histogram(
    "torii_webhook_attempt_seconds", "Time an endpoint took to answer one webhook attempt, by outcome",
    ["outcome"], buckets=WEBHOOK_BUCKETS)


def observe_page(source: str, seconds: float) -> None:
    OCR_PAGE.labels(source).observe(seconds)


def count_outbound(channel: str, outcome: str) -> None:
    OUTBOUND_ATTEMPTS.labels(channel, outcome).inc()


def observe_webhook_attempt(event_type: str, outcome: str, seconds: float) -> None:
    """The ``observe`` of ``gateway.webhooks.deliver_webhook``: one attempt made."""
    WEBHOOK_ATTEMPTS.labels(event_type, outcome).inc()
    WEBHOOK_SECONDS.labels(outcome).observe(seconds)


def install_observers() -> None:
    """Point the hooks of ``workflows.observe`` here (the same functions every time: idempotent)."""
    observe.page_read = observe_page


def process_observed(run: Callable[[], Outcome | None]) -> Outcome | None:
    """``run()`` (the pipeline for one message) timed; a message processed before is not counted."""
    started = time.perf_counter()
    try:
        outcome = run()
    except Exception:
        INBOUND_PROCESSING.labels("error").observe(time.perf_counter() - started)
        raise
    if outcome is None:
        return None
    INBOUND_PROCESSING.labels(outcome.status).observe(time.perf_counter() - started)
    if outcome.latency is not None:
        INBOUND_LATENCY.labels(outcome.status).observe(max(0.0, outcome.latency))
    return outcome


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def use_multiprocess_dir(default: Path) -> Path:
    """Before starting worker processes: the directory they write their values to, for this process to read.

    Torii's own directory (``default``) is emptied first: the files of a previous run belong to
    processes long gone. One set by the operator is left as it is (theirs to empty between runs).
    """
    given = multiprocess_dir()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        return given
    default.mkdir(parents=True, exist_ok=True)
    for stale in default.glob("*.db"):
        stale.unlink()
    # The children inherit it; prometheus_client there reads it at import.
    os.environ[MULTIPROC_ENV] = str(default)
    return default


class _Registered(Collector):
    """This process's default registry as one collector of a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(state: Collector, accept: str = "") -> tuple[bytes, str]:
    """The text a scrape gets (the format the Accept header asks for), and its content type."""
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path is not None:
        MultiProcessCollector(registry, str(path))  # type: ignore[no-untyped-call]
    else:
        registry.register(_Registered())
    registry.register(state)
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
