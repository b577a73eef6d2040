"""A partner's reply that arrives in an IMAP mailbox drives the invitation, through `torii up`."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from dovecot import Dovecot
from harness import GatewayProcess, gateway_env, private_database, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow


def test_a_reply_in_the_imap_mailbox_is_taken_in_once_and_applied(tmp_path: Path, redis_url: str) -> None:
    with Dovecot() as server, private_database(tmp_path) as db_url:
        mailbox = f"imap://{server.user}:{server.password}@{server.host}:{server.port}/INBOX?tls=none&name=partners"
        env = gateway_env(tmp_path, db_url, redis_url, TORII_IMAP_MAILBOXES=mailbox)
        gw = GatewayProcess(tmp_path, env).start()
        try:
            inv = gw.invite(partner_email="yamada@partner.example")
            gw.wait_state(inv["id"], "sent")
            message_id = f"{uuid.uuid4().hex}@partner.example"
            # No SMTP envelope here: the reply token is found in the To header.
            uid = server.append(compose_reply(answer="非承認", from_addr="yamada@partner.example",
                                              to_addr=inv["reply_to"], in_reply_to=None,
                                              message_id=message_id, charset="iso-2022-jp"))
            message = gw.wait_message(message_id)
            assert message["channel"] == "imap" and message["status"] == "processed"
            assert gw.invitation(inv["id"])["state"] == "rejected"
            wait_for(lambda: "$ToriiProcessed" in server.flags().get(uid, set()), 20, 0.1,
                     "the message to be marked processed in the mailbox")
        finally:
            assert gw.stop() == 0, gw.log_tail()
