"""Loop safety: the gateway and an auto-responder never ping-pong.

The gateway's relay here is an auto-responder: every mail it receives is answered,
at once, back into the gateway's SMTP intake, the way a vacation responder at a
partner would. One well-behaved responder (it marks its replies), one naive one
(plain "Re:" replies without any header saying they are automatic).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import time
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from harness import GatewayProcess, free_port, gateway_env, private_database, wait_for

pytestmark = pytest.mark.slow


class AutoResponder:
    def __init__(self, gateway_port: int, marks_replies: bool) -> None:
        self.gateway_port = gateway_port
        self.marks_replies = marks_replies
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        await asyncio.to_thread(self._answer, message)
        return "250 OK"

    def _answer(self, original: Any) -> None:
        to = parseaddr(original["Reply-To"] or original["From"])[1]
        reply = EmailMessage()
        reply["From"] = "vacation@partner.example"
        reply["To"] = to
        reply["Subject"] = ("Automatic reply: " if self.marks_replies else "Re: ") + str(original["Subject"])
        reply["In-Reply-To"] = original["Message-ID"]
        if self.marks_replies:
            reply["Auto-Submitted"] = "auto-replied"
        reply.set_content("I am out of the office until Monday and will read your message then.")
        with smtplib.SMTP("127.0.0.1", self.gateway_port, timeout=10) as client:
            client.send_message(reply, from_addr="vacation@partner.example", to_addrs=[to])


@pytest.mark.parametrize("marks_replies", [True, False], ids=["marked-auto-reply", "naive-responder"])
def test_an_auto_responder_loop_stops_after_one_message(tmp_path: Path, redis_url: str, marks_replies: bool) -> None:
    relay_port = free_port()
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, redis_url, SMTP_URL=f"smtp://127.0.0.1:{relay_port}")
        responder = AutoResponder(int(env["TORII_SMTP_PORT"]), marks_replies)
        relay = Controller(responder, hostname="127.0.0.1", port=relay_port)
        relay.start()
        gw = GatewayProcess(tmp_path, env).start()
        try:
            inv = gw.invite(partner_email="vacation@partner.example")
            gw.wait_state(inv["id"], "sent")
            answer = wait_for(lambda: (ms := gw.api("GET", "/api/messages")) and ms[-1]["status"] != "received"
                              and ms[-1], 30, 0.1, "the auto-reply to be processed")
            time.sleep(3)  # give a loop every chance to happen
            assert len(responder.received) == 1
            assert len(gw.outbox(object_type="invitation", object_id=inv["id"])) == 1
            assert answer["status"] == ("ignored" if marks_replies else "review")
            assert gw.invitation(inv["id"])["state"] == "sent"
        finally:
            assert gw.stop() == 0
            relay.stop()
