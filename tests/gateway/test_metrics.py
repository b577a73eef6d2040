"""/metrics, /healthz, /readyz and JSON logs: counts that match the database, queue depth read from Redis,
values observed in a worker child seen through the process serving /metrics, ids on every log line."""

from __future__ import annotations

import io
import json
import logging
import random
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from gateway import intake
from gateway.logs import bind_log_context, current_log_context, log_context, make_handler
from gateway.runtime import Runtime
from gateway.web import create_app
from harness import GatewayProcess, free_port, gateway_env, private_database, wait_for
from samples import fax_orders as samples
from webapp import TestClient, WebApp
from workflows import clock
from workflows.models import InboundMessage, InboundStatus

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by (name, labels); the Prometheus text parser must take all of it."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def series(found: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in found.items() if n == name}


def store(web: WebApp, channel: str = "smtp") -> int:
    message = EmailMessage()
    message["From"] = "someone@partner.example"
    message["To"] = "nobody@torii.test"
    message["Subject"] = "hello"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@partner.example>"
    message.set_content("hello")
    return intake.store(web.runtime.db, message.as_bytes(), channel=channel, mail_from="someone@partner.example",
                        rcpt_tos=["nobody@torii.test"]).id


def set_status(web: WebApp, inbound_id: int, status: InboundStatus, received_ago: float = 0.0) -> None:
    with web.runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        row.status = status
        row.received_at = clock.now() - timedelta(seconds=received_ago)


def test_metrics_count_what_the_database_holds(web: WebApp) -> None:
    ids = [store(web) for _ in range(5)] + [store(web, "imap"), store(web, "imap")]
    set_status(web, ids[0], InboundStatus.REVIEW, received_ago=300)
    set_status(web, ids[1], InboundStatus.REVIEW, received_ago=20)
    set_status(web, ids[2], InboundStatus.PROCESSED)
    set_status(web, ids[5], InboundStatus.UNMATCHED)

    found = scrape(web.api("read"))

    with web.runtime.db.sessions() as session:
        counted = {frozenset({("channel", channel), ("status", status)}): float(n) for channel, status, n in
                   session.execute(select(InboundMessage.channel, InboundMessage.status, func.count())
                                   .group_by(InboundMessage.channel, InboundMessage.status))}
    assert series(found, "torii_inbound_messages") == counted
    assert value(found, "torii_inbound_messages", channel="smtp", status="received") == 2
    assert value(found, "torii_inbound_received_total", channel="smtp") == 5
    assert value(found, "torii_inbound_received_total", channel="imap") == 2
    assert value(found, "torii_inbound_processed_total", channel="smtp") == 3
    assert value(found, "torii_inbound_processed_total", channel="imap") == 1
    assert value(found, "torii_review_backlog") == 2
    assert value(found, "torii_review_oldest_age_seconds") == 300
    assert value(found, "torii_state_source_up", source="database") == 1
    assert value(found, "torii_state_source_up", source="redis") == 1
    assert series(found, "torii_outbound_messages") == {}  # nothing sent yet: no series, not an error
    assert series(found, "torii_fax_jobs") == {}


def test_queue_depth_is_read_from_redis(web: WebApp) -> None:
    before = scrape(web.api("read"))
    assert value(before, "torii_queue_messages", queue="inbound", state="waiting") == 0

    web.runtime.enqueue_inbound(123456)  # no worker runs here: it stays in the queue
    web.runtime.process_inbound.send_with_options(args=(123457,), delay=60_000)

    found = scrape(web.api("read"))
    assert value(found, "torii_queue_messages", queue="inbound", state="waiting") == 1
    assert value(found, "torii_queue_messages", queue="inbound", state="delayed") == 1
    assert value(found, "torii_queue_messages", queue="inbound", state="in_progress") == 0
    assert value(found, "torii_queue_messages", queue="inbound", state="dead") == 0
    assert value(found, "torii_queue_messages", queue="outbound", state="waiting") == 0


def test_processing_in_this_process_is_observed(web: WebApp) -> None:
    client = web.api("read")
    before = scrape(client)
    inbound_id = store(web)

    web.runtime.process_inbound(inbound_id)  # the actor's function, called here as a worker would
    web.runtime.process_inbound(inbound_id)  # already processed: not counted again

    found = scrape(client)
    with web.runtime.db.sessions() as session:
        status = session.get(InboundMessage, inbound_id).status
    for name in ("torii_inbound_processing_seconds_count", "torii_inbound_latency_seconds_count"):
        assert (value(found, name, status=status) or 0) - (value(before, name, status=status) or 0) == 1, name


def test_ocr_time_per_page_is_observed_through_the_workflows_hook(web: WebApp) -> None:
    from parsers.mime.parse import parse_mail
    from workflows.fax_order.pages import read_delivery

    client = web.api("read")
    before = value(scrape(client), "torii_ocr_page_seconds_count", source="text") or 0
    truth = samples.make_order(random.Random(3), "ruled", received_at=clock.now(), line_count=2)
    message = EmailMessage()
    message["From"] = "fax@faxservice.example"
    message["Subject"] = "FAX受信 送信元:03-1234-5678"
    message.set_content("FAXを受信しました。")
    message.add_attachment(samples.render_pdf(truth, random.Random(1)), maintype="application", subtype="pdf",
                           filename="fax.pdf")

    pages = read_delivery(parse_mail(message.as_bytes()), web.runtime.settings, clock.now())

    assert [p.source for p in pages.pages] == ["text"]
    assert value(scrape(client), "torii_ocr_page_seconds_count", source="text") == before + 1


def test_metrics_need_a_reading_credential_and_the_probes_none(web: WebApp) -> None:
    stranger = web.client()
    assert stranger.get("/metrics").status_code == 401
    assert stranger.get("/healthz").json() == {"ok": True}
    assert stranger.get("/api/health").json() == {"ok": True}
    ready = stranger.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ok": True, "checks": {"database": "ok", "redis": "ok"}}
    web.operator("mori", "viewer")
    assert web.login("mori").get("/metrics").status_code == 200
    openmetrics = web.api("read").get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")


def test_readyz_answers_503_soon_when_redis_is_unreachable(web: WebApp) -> None:
    runtime = Runtime(replace(web.runtime.settings, redis_url=f"redis://127.0.0.1:{free_port()}"))
    try:
        app = WebApp(runtime, create_app(runtime))
        started = time.monotonic()
        ready = app.client().get("/readyz")
        assert time.monotonic() - started < 5
        assert ready.status_code == 503
        body = ready.json()
        assert body["ok"] is False and body["checks"]["database"] == "ok"
        assert "ConnectionError" in body["checks"]["redis"], body

        # Scraping still answers, with what it could read.
        found = scrape(app.client(headers={"Authorization": f"Bearer {web.token('prometheus', 'read')}"}))
        assert value(found, "torii_state_source_up", source="redis") == 0
        assert value(found, "torii_state_source_up", source="database") == 1
        assert series(found, "torii_queue_messages") == {}
        assert value(found, "torii_review_backlog") == 0
    finally:
        runtime.close()


def test_json_log_lines_carry_the_ids_of_the_work_at_hand() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("torii.test.json")
    logger.addHandler(make_handler(stream, json=True))
    logger.propagate = False
    try:
        with log_context(inbound_id=42, object_type=None):
            logger.warning("process: inbound %s → %s", 42, "review")
        logger.warning("outside")
    finally:
        logger.handlers.clear()
        logger.propagate = True

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "process: inbound 42 → review"
    assert inside["inbound_id"] == 42 and "object_type" not in inside
    assert inside["level"] == "WARNING" and inside["logger"] == "torii.test.json"
    assert {"time", "process"} <= inside.keys()
    assert "inbound_id" not in outside


@pytest.mark.slow
def test_a_worker_childs_observations_are_scraped_from_torii_up(tmp_path: Path, redis_url: str) -> None:
    """A real ``torii up`` with JSON logs: the worker child processes a mail and a faxed page; /metrics,
    answered by the parent, has both, and the child's log lines name the message they are about."""
    home = tmp_path / "home"
    with private_database(tmp_path) as database_url:
        gw = GatewayProcess(home, gateway_env(home, database_url, redis_url, TORII_LOG_FORMAT="json")).start()
        try:
            message = EmailMessage()
            message["From"] = "fax@faxservice.example"
            message["To"] = f"fax-orders@{gw.domain}"
            message["Subject"] = "FAX受信 送信元:03-5555-0101"
            message_id = f"{uuid.uuid4().hex}@faxservice.example"
            message["Message-ID"] = f"<{message_id}>"
            message.set_content("FAXを受信しました。")
            truth = samples.make_order(random.Random(5), "ruled", received_at=clock.now(), line_count=2)
            message.add_attachment(samples.render_pdf(truth, random.Random(1)), maintype="application",
                                   subtype="pdf", filename="fax.pdf")
            gw.send(message.as_bytes(), rcpt=f"fax-orders@{gw.domain}", mail_from="fax@faxservice.example")
            processed = gw.wait_message(message_id, timeout=120)

            scraper = gw.http.get("/metrics", headers={"Authorization": f"Bearer {gw.make_token('prom', 'read')}"})
            assert scraper.status_code == 200, scraper.text
            found = parse(scraper.text)
            status = processed["status"]
            assert (value(found, "torii_inbound_processing_seconds_count", status=status) or 0) >= 1
            assert (value(found, "torii_inbound_latency_seconds_count", status=status) or 0) >= 1
            assert (value(found, "torii_ocr_page_seconds_count", source="text") or 0) >= 1
            assert value(found, "torii_inbound_received_total", channel="smtp") == 1
            assert any((home / "metrics").glob("*.db")), "the worker wrote its values where the parent reads"

            def worker_line() -> dict[str, object] | None:
                lines = [json.loads(line) for line in gw.log_path.read_text().splitlines() if line.startswith("{")]
                return next((line for line in lines if line.get("inbound_id") == processed["id"]
                             and str(line["message"]).startswith("process:")), None)

            line = wait_for(worker_line, 10, 0.1, "the worker's JSON line about the message")
            assert line["process"] != gw.process.pid
        finally:
            assert gw.stop() == 0, gw.log_tail()


def test_ids_learnt_halfway_last_until_their_block_ends_and_none_are_kept_outside_one() -> None:
    bind_log_context(object_type="order", object_id=7)  # a task called directly, outside any block
    assert current_log_context() == {}
    with log_context(inbound_id=1):
        bind_log_context(object_type="order", object_id=7)
        assert current_log_context() == {"inbound_id": 1, "object_type": "order", "object_id": 7}
    assert current_log_context() == {}
