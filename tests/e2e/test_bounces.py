"""Bounces of our mail, delivered back over SMTP, are matched to the message they answer."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from harness import GatewayProcess, wait_for

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"


def invitation_sent(gw: GatewayProcess) -> tuple[dict[str, Any], dict[str, Any]]:
    inv = gw.invite()
    gw.wait_state(inv["id"], "sent")
    mail = next(o for o in gw.outbox(object_type="invitation", object_id=inv["id"]) if o["kind"] == "invitation")
    return inv, mail


def dsn(mail: dict[str, Any], status: str, action: str, diagnostic: str) -> bytes:
    boundary = "bnd-" + uuid.uuid4().hex
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.partner.example>\r\n"
        f"To: {mail['message_id'].split('@')[0]}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.partner.example>\r\n"
        f"Auto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message "
        f"could not be delivered.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.partner.example\r\n\r\n"
        f"Final-Recipient: rfc822; {mail['to']}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{mail['message_id']}>\r\nTo: {mail['to']}\r\nSubject: invitation\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def verp(mail: dict[str, Any]) -> str:
    return f"bounce+{mail['message_id'].split('@')[0]}@torii.test"


def test_a_hard_bounce_makes_the_invitation_undeliverable(gw: GatewayProcess) -> None:
    inv, mail = invitation_sent(gw)
    raw = dsn(mail, "5.1.1", "failed", "550 5.1.1 <x>: Recipient address rejected: User unknown")
    gw.send(raw, rcpt=verp(mail), mail_from="")
    got = gw.wait_state(inv["id"], "undeliverable")
    assert any(e["kind"] == "bounce" and "5.1.1" in e["summary"] for e in got["timeline"])
    failed = next(o for o in gw.outbox(object_type="invitation", object_id=inv["id"]) if o["id"] == mail["id"])
    assert failed["status"] == "failed" and "5.1.1" in failed["last_error"]
    message = next(m for m in gw.api("GET", "/api/messages") if m["to"] == [verp(mail)])
    assert (message["status"], message["kind"]) == ("processed", "bounce")


def test_a_soft_bounce_sends_the_mail_again(gw: GatewayProcess) -> None:
    inv, mail = invitation_sent(gw)
    # A bounce without a report, whose only verdict is a temporary SMTP reply quoted in the text.
    raw = (f"From: MAILER-DAEMON@mx.partner.example\r\nTo: {verp(mail)}\r\nSubject: Mail delivery failed\r\n\r\n"
           f"This message was created automatically by mail delivery software.\r\n\r\n"
           f"A message that you sent could not be delivered to one or more of its recipients:\r\n\r\n"
           f"  {mail['to']}\r\n    SMTP error from remote mail server after RCPT TO:\r\n"
           f"    452 Mailbox full, try again later\r\n").encode()
    gw.send(raw, rcpt=verp(mail), mail_from="")

    def resent() -> dict[str, Any] | None:
        row = next(o for o in gw.outbox(object_type="invitation", object_id=inv["id"]) if o["id"] == mail["id"])
        return row if row["status"] == "sent" and row["attempts"] == 2 else None

    wait_for(resent, 30, 0.2, "the soft-bounced mail to be sent again")
    got = gw.invitation(inv["id"])
    assert got["state"] == "sent"
    assert any(e["kind"] == "bounce" and "bounced softly" in e["summary"] for e in got["timeline"])


def test_a_qmail_style_bounce_without_a_report_is_matched_by_verp(gw: GatewayProcess) -> None:
    inv, mail = invitation_sent(gw)
    raw = (f"From: MAILER-DAEMON@mx.partner.example\r\nTo: {verp(mail)}\r\nSubject: failure notice\r\n\r\n"
           f"Hi. This is the qmail-send program at mx.partner.example.\r\n"
           f"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
           f"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           f"<{mail['to']}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n").encode()
    gw.send(raw, rcpt=verp(mail), mail_from="")
    gw.wait_state(inv["id"], "undeliverable")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")
@pytest.mark.parametrize(("name", "their_id"), [
    ("torture/sisimai__rfc3464-01.eml", b"<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>"),
    ("ja/sisimai__lhost-postfix-09.eml", b"20140913142357"),  # the original's id, quoted without brackets
    ("torture/sisimai__lhost-qmail-01.eml", b"<000000000.9999999999999.JavaMail.postmaster@mailhub>"),
])
def test_real_world_bounces_are_matched_by_the_message_id_they_quote(gw: GatewayProcess, name: str,
                                                                      their_id: bytes) -> None:
    inv, mail = invitation_sent(gw)
    raw = (CORPUS / name).read_bytes()
    assert their_id in raw
    raw = raw.replace(their_id, f"<{mail['message_id']}>".encode())
    gw.send(raw, rcpt="postmaster@torii.test", mail_from="")
    bounce = wait_for(lambda: next((e for e in gw.invitation(inv["id"])["timeline"] if e["kind"] == "bounce"), None),
                      30, 0.2, f"{name} to be matched to the invitation mail")
    assert bounce["outbound_id"] == mail["id"]


def test_a_delay_warning_changes_nothing_and_sends_nothing_again(gw: GatewayProcess) -> None:
    inv, mail = invitation_sent(gw)
    gw.send(dsn(mail, "4.4.7", "delayed", "Delivery delayed: still trying for 4 hours"), rcpt=verp(mail),
            mail_from="")
    note = wait_for(lambda: next((e for e in gw.invitation(inv["id"])["timeline"] if e["kind"] == "bounce"), None),
                    30, 0.2, "the delay warning to be recorded")
    assert "nothing to do" in note["summary"]
    row = next(o for o in gw.outbox(object_type="invitation", object_id=inv["id"]) if o["id"] == mail["id"])
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert gw.invitation(inv["id"])["state"] == "sent"
