"""Webhooks through the API and the console, each try a real signed POST to a real receiver."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from gateway.metrics import observe_webhook_attempt
from gateway.webhooks import deliver_webhook
from webapp import WebApp
from webhook_receiver import HANG, Receiver, webhook_receiver
from workflows import clock, invitation
from workflows.models import Invitation
from workflows.webhooks import WebhookDelivery


def register(web: WebApp, receiver: Receiver, *types: str) -> dict[str, Any]:
    answer = web.api("admin").post("/api/webhooks/endpoints", json={"url": receiver.url, "event_types": list(types),
                                                                     "description": "ERP"})
    assert answer.status_code == 201, answer.text
    receiver.secret = answer.json()["secret"]
    return dict(answer.json())


def rejected_invitation(web: WebApp) -> int:
    created = web.api("write").post("/api/invitations", json={
        "issuer": {"company": "発行商事", "name": "鈴木", "email": "i@issuer.example"},
        "partner": {"company": "取引先物産 <b>", "name": "山田", "email": "p@partner.example"}})
    assert created.status_code == 201, created.text
    with web.runtime.db.transaction() as session:
        inv = session.get(Invitation, created.json()["id"])
        assert inv is not None
        invitation.answer(session, web.runtime.settings, inv, "delivered")
        invitation.answer(session, web.runtime.settings, inv, "reject")
    return int(created.json()["id"])


def deliveries(web: WebApp) -> list[int]:
    with web.runtime.db.sessions() as session:
        return list(session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))


def deliver(web: WebApp, delivery_id: int, **settings: Any) -> list[float]:
    """One try, as the actor makes it; the delays it asked the next try to wait."""
    retries: list[float] = []
    deliver_webhook(web.runtime.db, replace(web.runtime.settings, **settings), web.runtime.http, delivery_id,
                    lambda _id, seconds: retries.append(seconds), observe=observe_webhook_attempt)
    return retries


def metrics(web: WebApp) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = web.api("read").get("/metrics").text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_the_receiver_gets_a_correctly_signed_event_and_again_after_a_500(web: WebApp,
                                                                          frozen_clock: clock.FrozenClock) -> None:
    retrying = ("torii_webhook_attempts_total", (("event_type", "invitation.rejected"), ("outcome", "retrying")))
    before = metrics(web).get(retrying, 0.0)
    with webhook_receiver(answers=[500]) as receiver:
        register(web, receiver, "invitation.rejected")
        invitation_id = rejected_invitation(web)
        [delivery_id] = deliveries(web)
        assert deliver(web, delivery_id) == [5.0]  # refused: the next try in 5 s
        assert deliver(web, delivery_id) == []  # not due yet: nothing sent
        frozen_clock.move(seconds=5)
        assert deliver(web, delivery_id) == []

        first, second = receiver.wait(2, "invitation.rejected")
        assert first.verified and second.verified
        assert (first.answered, second.answered) == (500, 200)
        assert first.webhook_id == second.webhook_id and first.body == second.body
        assert first.payload["data"]["id"] == invitation_id
        assert first.payload["data"]["partner_company"] == "取引先物産 <b>"
        assert first.headers["content-type"] == "application/json"
        # A receiver with another secret would refuse it.
        assert not receiver.verify(first.body, first.headers, secret="whsec_" + "A" * 32)

    log = web.api("admin").get(f"/api/webhooks/deliveries/{delivery_id}").json()
    assert log["status"] == "delivered" and log["webhook_id"] == first.webhook_id
    assert [(t["status_code"], t["error"]) for t in log["tries"]] == [(500, "the endpoint answered 500"),
                                                                      (200, None)]
    events = web.api("admin").get("/api/webhooks/events", params={"type": "invitation.rejected"}).json()
    assert [e["webhook_id"] for e in events] == [first.webhook_id]
    scraped = metrics(web)
    assert scraped[("torii_webhook_deliveries", (("status", "delivered"),))] == 1
    assert scraped[retrying] == before + 1


def test_an_endpoint_that_does_not_answer_is_given_up_on_at_the_timeout(web: WebApp) -> None:
    with webhook_receiver(answers=[HANG], hang_seconds=3) as receiver:
        register(web, receiver)
        rejected_invitation(web)
        delivery_id = deliveries(web)[-1]
        assert deliver(web, delivery_id, webhook_timeout=0.5) == [5.0]
    log = web.api("admin").get(f"/api/webhooks/deliveries/{delivery_id}").json()
    assert log["status"] == "retrying" and log["last_error"] == "no answer within 0.5 s"
    assert log["tries"][0]["status_code"] is None and 450 <= log["tries"][0]["duration_ms"] < 2000


def test_an_endpoint_that_is_down_is_retried_then_failed_and_sent_again_on_request(web: WebApp) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    web.api("admin").post("/api/webhooks/endpoints", json={"url": url})  # nothing listens there any more
    rejected_invitation(web)
    delivery_id = deliveries(web)[-1]
    assert deliver(web, delivery_id, webhook_retry_delays=()) == []
    log = web.api("admin").get(f"/api/webhooks/deliveries/{delivery_id}").json()
    assert log["status"] == "failed" and log["last_error"].startswith("could not reach the endpoint: ConnectError")

    with webhook_receiver() as receiver:
        admin = web.api("admin")
        endpoint_id = log["endpoint_id"]
        assert admin.patch(f"/api/webhooks/endpoints/{endpoint_id}", json={"url": receiver.url}).status_code == 200
        receiver.secret = admin.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret").json()["secret"]
        again = admin.post(f"/api/webhooks/endpoints/{endpoint_id}/send-failed-again")
        assert again.json() == {"deliveries": [delivery_id]}
        assert deliver(web, delivery_id) == []
        [received] = receiver.wait(1, "invitation.rejected")
    assert received.verified and received.webhook_id == log["webhook_id"]
    # Both secrets sign during the overlap, so a receiver still on the old one accepts it too.
    assert len(received.headers["webhook-signature"].split(" ")) == 2


def test_api_refuses_unknown_event_types_and_keeps_secrets_out_of_lists(web: WebApp) -> None:
    admin = web.api("admin")
    refused = admin.post("/api/webhooks/endpoints", json={"url": "https://p.example/h", "event_types": ["order.sent2"]})
    assert refused.status_code == 422 and "order.sent2" in refused.json()["error"]
    made = admin.post("/api/webhooks/endpoints", json={"url": "https://p.example/h", "event_types": ["order.*"]})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    assert all("secret" not in e for e in admin.get("/api/webhooks/endpoints").json())
    assert "invitation.rejected" in admin.get("/api/webhooks/event-types").json()
    assert web.api("write").get("/api/webhooks/endpoints").status_code == 403
    assert admin.delete(f"/api/webhooks/endpoints/{made.json()['id']}").json()["disabled"] is True


def test_the_console_lists_deliveries_and_sends_one_again(web: WebApp) -> None:
    with webhook_receiver(answers=[503]) as receiver:
        register(web, receiver, "invitation.rejected")
        rejected_invitation(web)
        [delivery_id] = deliveries(web)
        deliver(web, delivery_id)
        web.operator("root", role="admin")
        web.operator("viewer", role="viewer")
        console = web.login("root")
        page = console.get("/webhooks")
        assert page.status_code == 200
        assert receiver.url in page.text and "invitation.rejected" in page.text and "retrying" in page.text
        assert "503" in console.get(f"/webhooks/deliveries/{delivery_id}").text
        assert web.login("viewer").get("/webhooks").status_code == 403
        forger = web.client()
        forger.cookies = console.cookies
        assert forger.post(f"/webhooks/deliveries/{delivery_id}/send-again").status_code == 403  # no CSRF token

        sent = console.post(f"/webhooks/deliveries/{delivery_id}/send-again")
        assert sent.status_code == 303 and sent.headers["location"] == f"/webhooks/deliveries/{delivery_id}"
        assert deliver(web, delivery_id) == []
        assert [r.answered for r in receiver.wait(2, "invitation.rejected")] == [503, 200]
    detail = console.get(f"/webhooks/deliveries/{delivery_id}").text
    assert "delivered" in detail and "取引先物産 &lt;b&gt;" in detail


@pytest.mark.parametrize("path", ["/api/webhooks/deliveries/999999", "/api/webhooks/endpoints/999999"])
def test_unknown_rows_are_404(web: WebApp, path: str) -> None:
    assert web.api("admin").get(path).status_code == 404


def test_payload_bodies_are_compact_json_with_the_standard_fields(web: WebApp) -> None:
    with webhook_receiver() as receiver:
        register(web, receiver, "invitation.sent")
        rejected_invitation(web)
        deliver(web, deliveries(web)[-1])
        [received] = receiver.wait(1, "invitation.sent")
    assert set(json.loads(received.body)) == {"type", "timestamp", "data"}
    assert b": " not in received.body
