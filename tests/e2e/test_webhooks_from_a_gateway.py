"""Webhooks from a real `torii up`: a partner's reply by SMTP reaches the platform's receiver, signed,
through a 500, a receiver that hangs, and a gateway restarted while a delivery waits for its next try."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import GatewayProcess, gateway_env, private_database, wait_for
from webhook_receiver import HANG, Receiver, webhook_receiver

pytestmark = pytest.mark.slow

ENV = {"TORII_WEBHOOK_RETRY_SECONDS": "1,1,1,1,1,1", "TORII_WEBHOOK_TIMEOUT": "1"}


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GatewayProcess]:
    """A gateway of this module's own: its deliveries are nobody else's to sweep."""
    tmp: Path = tmp_path_factory.mktemp("webhooks")
    with private_database(tmp) as database_url:
        home = tmp / "home"
        gw = GatewayProcess(home, gateway_env(home, database_url, redis_url, **ENV)).start()
        yield gw
        code = gw.stop()
        assert code == 0, f"torii up exited with {code}:\n{gw.log_tail()}"


def subscribe(gw: GatewayProcess, receiver: Receiver, *types: str) -> int:
    endpoint = gw.api("POST", "/api/webhooks/endpoints", json={"url": receiver.url, "event_types": list(types)})
    receiver.secret = endpoint["secret"]
    return int(endpoint["id"])


def rejected(gw: GatewayProcess) -> dict[str, Any]:
    inv = gw.invite(channel="email")
    message = gw.reply_to_invitation(inv, "非承認とさせていただきます。")
    assert message["status"] == "processed", message
    return inv


def test_a_rejection_by_mail_reaches_the_platform_signed_within_seconds_and_again_after_a_500(
        hooked: GatewayProcess) -> None:
    with webhook_receiver(answers=[500]) as receiver:
        endpoint_id = subscribe(hooked, receiver, "invitation.rejected")
        started = time.monotonic()
        inv = rejected(hooked)
        [first] = receiver.wait(1, "invitation.rejected", timeout=10)
        first_after = time.monotonic() - started
        first, second = receiver.wait(2, "invitation.rejected", timeout=15)
    assert first_after < 10
    assert first.verified and second.verified
    assert (first.answered, second.answered) == (500, 200)
    assert first.webhook_id == second.webhook_id and first.body == second.body
    assert first.payload["data"]["id"] == inv["id"] and first.payload["data"]["previous_state"] == "sent"
    [delivery] = hooked.api("GET", "/api/webhooks/deliveries", params={"endpoint_id": endpoint_id})
    assert delivery["status"] == "delivered"
    tries = hooked.api("GET", f"/api/webhooks/deliveries/{delivery['id']}")["tries"]
    assert [t["status_code"] for t in tries] == [500, 200]


def test_a_receiver_that_hangs_is_tried_again_after_the_timeout(hooked: GatewayProcess) -> None:
    with webhook_receiver(answers=[HANG], hang_seconds=3) as receiver:
        endpoint_id = subscribe(hooked, receiver, "invitation.rejected")
        rejected(hooked)
        first, second = receiver.wait(2, "invitation.rejected", timeout=20)
        assert first.webhook_id == second.webhook_id and second.verified
        [delivery] = wait_for(lambda: [d for d in hooked.api("GET", "/api/webhooks/deliveries",
                                                               params={"endpoint_id": endpoint_id})
                                       if d["status"] == "delivered"], 10, 0.1, "the delivery to be delivered")
    tries = hooked.api("GET", f"/api/webhooks/deliveries/{delivery['id']}")["tries"]
    assert tries[0]["error"] == "no answer within 1 s" and tries[-1]["status_code"] == 200


def test_a_restart_mid_retry_loses_no_event_and_changes_no_id(hooked: GatewayProcess) -> None:
    with webhook_receiver(answers=[500] * 200) as receiver:
        endpoint_id = subscribe(hooked, receiver)
        invitations = [rejected(hooked) for _ in range(3)]
        receiver.wait(1, "invitation.rejected", timeout=10)
        hooked.stop()
        refused_before = {r.webhook_id for r in receiver.received}
        with receiver.lock:
            receiver.answers.clear()  # from now on: 200
        time.sleep(2)  # the tries due meanwhile find no gateway
        hooked.start()

        events = hooked.api("GET", "/api/webhooks/events")
        mine = {e["webhook_id"] for e in events if e["object"]["id"] in {inv["id"] for inv in invitations}}
        assert len(mine) == 6  # sent and rejected, three times
        wait_for(lambda: mine <= {r.webhook_id for r in receiver.received if r.answered == 200}, 30, 0.2,
                 "every event to be delivered after the restart")
    assert refused_before <= mine  # a refused try came back with the id it had
    assert all(r.verified for r in receiver.received)
    deliveries = hooked.api("GET", "/api/webhooks/deliveries", params={"endpoint_id": endpoint_id})
    assert {d["webhook_id"] for d in deliveries} == mine
    assert {d["status"] for d in deliveries} == {"delivered"}
