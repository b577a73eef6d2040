"""The invitation flow by email, end to end: HTTP API → SMTP out (spool) → partner reply over SMTP → state.

Every test talks to one real `torii up` (real aiosmtpd, real Redis, Dramatiq workers,
SQLite or PostgreSQL) and makes its own invitations.
"""

from __future__ import annotations

import smtplib
import uuid
from typing import Any

import pytest

from harness import DkimKey, GatewayProcess, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow


def invite(gw: GatewayProcess, *, approval_required: bool = True, language: str = "ja") -> dict[str, Any]:
    return gw.invite(channel="email", approval_required=approval_required, language=language,
                     comment="いつもお世話になっております。請求書の電子化のため、ご招待いたします。")


def test_invitation_mail_goes_out_with_reply_address_and_recorded_message_id(gw: GatewayProcess) -> None:
    inv = invite(gw)
    assert inv["state"] == "issued"
    mail = gw.invitation_mail(inv["id"])
    assert mail["to"] == inv["partner"]["email"]
    assert mail["reply_to"] == inv["reply_to"]
    assert inv["reply_to"].startswith("reply+") and inv["reply_to"].endswith("@torii.test")
    assert "株式会社インフォ商会" in mail["subject"]
    assert "承認" in mail["text"] and f"INV-{inv['id']}" in mail["text"]
    raw = gw.http.get(f"/api/outbox/{mail['id']}/raw").content
    assert b"Auto-Submitted: auto-generated" in raw
    assert f"<{mail['message_id']}>".encode() in raw
    assert b"text/html" in raw and b"text/plain" in raw
    assert gw.wait_state(inv["id"], "sent")
    spooled = gw.home / "spool" / "mail" / f"{mail['message_id']}.eml"
    assert spooled.read_bytes() == raw


def test_english_invitation_uses_the_english_template(gw: GatewayProcess) -> None:
    inv = invite(gw, language="en")
    mail = gw.invitation_mail(inv["id"])
    assert mail["subject"].startswith("Invitation from")
    assert "How to answer" in mail["text"]


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ("承認します。よろしくお願いいたします。", "approved"),
        ("済", "approved"),
        ("OKです", "approved"),
        ("We accept your invitation.", "approved"),
        ("非承認とさせていただきます。", "rejected"),
        ("今回はお断りいたします。", "rejected"),
        ("Sorry, we decline.", "rejected"),
        ("保留でお願いします。社内で確認します。", "held"),
        ("未", "held"),
        ("Please put it on hold for now.", "held"),
    ],
)
def test_each_answer_moves_the_invitation(gw: GatewayProcess, answer: str, state: str) -> None:
    inv = invite(gw)
    message = gw.reply_to_invitation(inv, answer)
    assert message["status"] == "processed", message
    assert gw.invitation(inv["id"])["state"] == state


def test_approval_names_the_contact_person(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "承認します。\n担当者：佐藤 花子")
    got = gw.invitation(inv["id"])
    assert got["state"] == "approved"
    assert got["contact_person"] == "佐藤 花子"


def test_rejection_sends_a_notice_to_the_issuer(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "非承認")
    assert gw.invitation(inv["id"])["state"] == "rejected"
    notice = wait_for(lambda: next((o for o in gw.outbox(to=inv["issuer"]["email"])
                                    if o["kind"] == "rejection_notice" and o["status"] == "sent"), None))
    assert "非承認" in notice["subject"]
    assert "株式会社インフォ物産" in notice["text"]


@pytest.mark.parametrize(
    ("charset", "style"),
    [("iso-2022-jp", "top"), ("shift_jis", "top"), ("shift_jis", "outlook"), ("utf-8", "bottom"), ("utf-8", "html")],
)
def test_replies_in_every_charset_and_layout_are_understood(gw: GatewayProcess, charset: str, style: str) -> None:
    inv = invite(gw)
    signature = "━━━━━━━━━━━━\n株式会社インフォ物産 営業部\n山田 太郎\nTEL 03-1234-5678\n━━━━━━━━━━━━"
    if charset == "shift_jis":
        signature = signature.replace("株式会社", "㈱") + "\n① 本社"  # NEC extension characters in CP932
    message = gw.reply_to_invitation(inv, "非承認でお願いします。", charset=charset, style=style, signature=signature)
    assert message["status"] == "processed", message
    assert gw.invitation(inv["id"])["state"] == "rejected"


def test_quoted_invitation_text_is_not_taken_for_the_answer(gw: GatewayProcess) -> None:
    # The quoted invitation lists 承認 / 非承認 / 保留; only the new line counts.
    inv = invite(gw)
    message = gw.reply_to_invitation(inv, "保留でお願いします", style="outlook")
    assert message["status"] == "processed"
    assert gw.invitation(inv["id"])["state"] == "held"


def test_approved_invitation_refuses_a_later_rejection_and_tells_the_partner(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "承認します")
    refused = gw.reply_to_invitation(inv, "やはりお断りします")
    assert refused["status"] == "refused"
    assert "already approved" in refused["reason"]
    got = gw.invitation(inv["id"])
    assert got["state"] == "approved"
    assert any(e["kind"] == "refused" and "already approved" in e["summary"] for e in got["timeline"])
    told = wait_for(lambda: [o for o in gw.outbox(to=inv["partner"]["email"]) if o["kind"] == "already_approved"])
    assert len(told) == 1
    assert not [o for o in gw.outbox(to=inv["issuer"]["email"]) if o["kind"] == "rejection_notice"]


def test_hold_then_reject_keeps_the_contact_person(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "保留します\n担当者：佐藤 花子")
    assert gw.invitation(inv["id"])["contact_person"] == "佐藤 花子"
    gw.reply_to_invitation(inv, "非承認とします\n担当者：田中 一郎")
    got = gw.invitation(inv["id"])
    assert got["state"] == "rejected"
    assert got["contact_person"] == "佐藤 花子"


def test_hold_then_approve_is_allowed(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "保留")
    gw.reply_to_invitation(inv, "承認します")
    assert gw.invitation(inv["id"])["state"] == "approved"


def test_issuer_without_approval_connects_at_once(gw: GatewayProcess) -> None:
    inv = invite(gw, approval_required=False)
    assert inv["state"] == "approved"
    mail = gw.invitation_mail(inv["id"])
    assert "ご回答は不要です" in mail["text"]


def test_the_same_message_delivered_twice_is_recorded_once(gw: GatewayProcess) -> None:
    inv = invite(gw)
    original = gw.invitation_mail(inv["id"])
    message_id = f"{uuid.uuid4().hex}@partner.example"
    raw = compose_reply(answer="承認します", original_text=original["text"], from_addr=inv["partner"]["email"],
                        to_addr=inv["reply_to"], in_reply_to=original["message_id"], message_id=message_id)
    first = gw.send(raw, rcpt=inv["reply_to"])
    second = gw.send(b"Received: from relay2.partner.example by mx; Sat, 21 Nov 2026 10:31:00 +0000\r\n" + raw,
                     rcpt=inv["reply_to"])
    assert first.startswith("250") and second.startswith("250")
    gw.wait_message(message_id)
    assert len(gw.api("GET", "/api/messages", params={"message_id": message_id})) == 1
    transitions = [e for e in gw.invitation(inv["id"])["timeline"] if e["kind"] == "transition"
                   and e["data"]["trigger"] == "approve"]
    assert len(transitions) == 1


def test_reply_to_an_unknown_token_is_kept_and_changes_nothing(gw: GatewayProcess) -> None:
    message_id = f"{uuid.uuid4().hex}@elsewhere.example"
    guessed = "reply+aaaaaaaaaaaaaaaaaaaaaaaa@torii.test"
    raw = compose_reply(answer="承認します", from_addr="guess@elsewhere.example", to_addr=guessed,
                        in_reply_to=None, message_id=message_id)
    assert gw.send(raw, rcpt=guessed).startswith("250")
    message = gw.wait_message(message_id)
    assert message["status"] == "unmatched"
    assert message["reason"].startswith("unknown token")
    assert message["object"] is None
    raw_back = gw.http.get(f"/api/messages/{message['id']}/raw").content
    assert raw_back == raw


def test_reply_from_a_stranger_goes_to_review_and_changes_nothing(gw: GatewayProcess) -> None:
    inv = invite(gw)
    message = gw.reply_to_invitation(inv, "承認します", from_addr="mallory@evil.example")
    assert message["status"] == "review"
    assert "not the invited partner" in message["reason"]
    assert gw.invitation(inv["id"])["state"] in ("issued", "sent")


def test_auto_reply_never_changes_state_and_is_never_answered(gw: GatewayProcess) -> None:
    inv = invite(gw)
    before = len(gw.outbox(object_type="invitation", object_id=inv["id"]))
    message = gw.reply_to_invitation(
        inv, "ただいま不在にしております。11月25日に戻ります。承認などのご連絡は後日いたします。",
        extra_headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})
    assert message["status"] == "ignored"
    assert message["kind"] == "auto_reply"
    assert gw.invitation(inv["id"])["state"] == "sent"
    assert len(gw.outbox(object_type="invitation", object_id=inv["id"])) == before


def test_unclear_reply_goes_to_review_and_an_operator_resolves_it(gw: GatewayProcess) -> None:
    inv = invite(gw)
    message = gw.reply_to_invitation(inv, "ご連絡ありがとうございます。社内で共有いたします。")
    assert message["status"] == "review"
    assert "unclear" in message["reason"]
    assert any(m["id"] == message["id"] for m in gw.api("GET", "/api/review"))
    resolved = gw.api("POST", f"/api/messages/{message['id']}/resolve",
                      json={"intent": "approve", "contact_person": "山田 太郎"})
    assert resolved["status"] == "resolved"
    got = gw.invitation(inv["id"])
    assert got["state"] == "approved" and got["contact_person"] == "山田 太郎"


def test_contradictory_reply_goes_to_review(gw: GatewayProcess) -> None:
    inv = invite(gw)
    message = gw.reply_to_invitation(inv, "承認します。\nやはり非承認でお願いします。")
    assert message["status"] == "review"
    assert gw.invitation(inv["id"])["state"] == "sent"


def test_oversize_message_is_refused_with_552(gw: GatewayProcess) -> None:
    raw = b"Subject: big\r\nFrom: a@partner.example\r\n\r\n" + (b"x" * 76 + b"\r\n") * 40_000  # 3 MB
    with pytest.raises(smtplib.SMTPDataError) as refused:
        gw.send(raw, rcpt="reply+whatever@torii.test")
    assert refused.value.smtp_code == 552


def test_mail_for_other_domains_is_refused_at_rcpt(gw: GatewayProcess) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        gw.send(b"Subject: relay?\r\n\r\nhello\r\n", rcpt="someone@elsewhere.example")
    assert list(refused.value.recipients.values())[0][0] == 550


def test_timeline_shows_every_message_and_transition_in_order(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "非承認")
    wait_for(lambda: [o for o in gw.outbox(to=inv["issuer"]["email"]) if o["status"] == "sent"])
    kinds = [e["kind"] for e in gw.invitation(inv["id"])["timeline"]]
    assert kinds[0] == "created"
    for expected in ("outbound", "delivery", "transition", "inbound"):
        assert expected in kinds
    assert kinds.index("inbound") < len(kinds) - 1


def test_console_lists_invitations_and_review(gw: GatewayProcess) -> None:
    inv = invite(gw)
    page = gw.http.get("/")
    assert page.status_code == 200
    assert f"INV-{inv['id']}" in page.text
    assert "Review queue" in page.text
    detail = gw.http.get(f"/invitations/{inv['id']}")
    assert detail.status_code == 200 and "created" in detail.text


def test_bad_invitation_request_is_refused_with_a_reason(gw: GatewayProcess) -> None:
    response = gw.http.post("/api/invitations", json={"issuer": {"company": "x"}, "partner": {}})
    assert response.status_code == 422
    assert "issuer.name" in response.json()["error"]


def signed_reply(gw: GatewayProcess, inv: dict[str, Any], answer: str, key: DkimKey,
                 tamper: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
    original = gw.invitation_mail(inv["id"])
    message_id = f"{uuid.uuid4().hex}@partner.example"
    raw = key.sign(compose_reply(answer=answer, original_text=original["text"], from_addr=inv["partner"]["email"],
                                 to_addr=inv["reply_to"], in_reply_to=original["message_id"],
                                 message_id=message_id, extra_headers=headers, charset="iso-2022-jp"))
    if tamper:  # a relay (or an attacker) changed the body after it was signed
        raw = raw.replace(b"\r\n\r\n", b"\r\n\r\nP.S.\r\n", 1)
    gw.send(raw, rcpt=inv["reply_to"], mail_from=inv["partner"]["email"])
    return gw.wait_message(message_id)


def test_a_reply_with_a_valid_dkim_signature_is_applied(gw: GatewayProcess, partner_dkim: DkimKey) -> None:
    inv = invite(gw)
    message = signed_reply(gw, inv, "承認します", partner_dkim)
    assert message["status"] == "processed", message
    assert message["parse"]["sender_auth"]["dkim"] == "pass"


def test_a_reply_whose_dkim_signature_fails_changes_nothing(gw: GatewayProcess, partner_dkim: DkimKey) -> None:
    inv = invite(gw)
    message = signed_reply(gw, inv, "承認します", partner_dkim, tamper=True)
    assert message["status"] == "review"
    assert "DKIM signature does not verify" in message["reason"]
    assert gw.invitation(inv["id"])["state"] == "sent"


def test_only_trusted_authentication_results_count(gw: GatewayProcess, partner_dkim: DkimKey) -> None:
    inv = invite(gw)
    forged = gw.reply_to_invitation(inv, "承認します", extra_headers={
        "Authentication-Results": "mx.elsewhere.example; dmarc=fail header.from=partner.example"})
    assert forged["status"] == "processed"  # an untrusted server's word is not taken
    inv = invite(gw)
    failed = gw.reply_to_invitation(inv, "承認します", extra_headers={
        "Authentication-Results": "mx.torii.test; spf=pass; dmarc=fail (p=reject) header.from=partner.example"})
    assert failed["status"] == "review"
    assert "dmarc=fail" in failed["reason"]
    assert gw.invitation(inv["id"])["state"] == "sent"


def test_every_automatic_mail_carries_the_objects_reply_address(gw: GatewayProcess) -> None:
    inv = invite(gw)
    gw.reply_to_invitation(inv, "非承認")
    notice = wait_for(lambda: next((o for o in gw.outbox(to=inv["issuer"]["email"])
                                    if o["kind"] == "rejection_notice"), None))
    assert notice["reply_to"] == inv["reply_to"]


def test_a_token_of_one_invitation_replying_to_another_changes_nothing(gw: GatewayProcess) -> None:
    first, second = invite(gw), invite(gw)
    other = gw.invitation_mail(second["id"])
    message_id = f"{uuid.uuid4().hex}@partner.example"
    raw = compose_reply(answer="承認します", from_addr=first["partner"]["email"], to_addr=first["reply_to"],
                        in_reply_to=other["message_id"], message_id=message_id)
    gw.send(raw, rcpt=first["reply_to"], mail_from=first["partner"]["email"])
    message = gw.wait_message(message_id)
    assert message["status"] == "review"
    assert "point at different objects" in message["reason"]
    assert gw.invitation(first["id"])["state"] in ("issued", "sent")
    assert gw.invitation(second["id"])["state"] in ("issued", "sent")
