"""Paper invitations (fax and postcard) answered by mail with the temporary ID and password."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pdfplumber
import pytest

from harness import GatewayProcess, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow


def paper_invitation(gw: GatewayProcess, channel: str = "fax") -> dict[str, Any]:
    extra = {"fax": "03-1234-5678"} if channel == "fax" else {}
    tag = uuid.uuid4().hex[:8]
    return gw.invite(channel=channel, partner={"company": "有限会社さくら青果", "name": "田中 一郎",
                                               "email": f"tanaka-{tag}@sakura.example", **extra})


def credentials_on_the_letter(gw: GatewayProcess, inv: dict[str, Any]) -> tuple[str, str]:
    """What the partner reads at the bottom of the letter."""
    pdf = gw.http.get(f"/api/invitations/{inv['id']}/letter").content
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    groups = re.findall(r"\b([0-9A-Z]{4}) ([0-9A-Z]{4})\b", text)
    assert len(groups) >= 2, text
    (id1, id2), (pw1, pw2) = groups[-2], groups[-1]
    return id1 + id2, pw1 + pw2


def answer(gw: GatewayProcess, body: str, sender: str) -> dict[str, Any]:
    message_id = f"{uuid.uuid4().hex}@sakura.example"
    raw = compose_reply(answer=body, from_addr=sender, to_addr="invite@torii.test", in_reply_to=None,
                        message_id=message_id, style="bare", charset="iso-2022-jp")
    gw.send(raw, rcpt="invite@torii.test", mail_from=sender)
    return gw.wait_message(message_id)


def test_a_fax_invitation_is_faxed_as_a_letter_with_credentials(gw: GatewayProcess) -> None:
    inv = paper_invitation(gw)
    assert inv["fax_number"] == "+81312345678"
    got = gw.wait_state(inv["id"], "sent")  # the fax spool took it
    (job,) = gw.api("GET", "/api/fax", params={"object_type": "invitation", "object_id": inv["id"]})
    assert (job["status"], job["number"]) == ("sent", "+81312345678")
    assert (gw.home / "spool" / "fax" / f"fax-{job['id']}.pdf").read_bytes()[:5] == b"%PDF-"
    temp_id, temp_password = credentials_on_the_letter(gw, inv)
    assert len(temp_id) == 8 and len(temp_password) == 8
    assert not gw.outbox(object_type="invitation", object_id=inv["id"])  # paper only, no mail
    assert any(e["kind"] == "fax" for e in got["timeline"])


def test_a_right_pair_in_any_layout_redeems_and_answers(gw: GatewayProcess) -> None:
    inv = paper_invitation(gw, "postcard")
    temp_id, temp_password = credentials_on_the_letter(gw, inv)
    full_width = temp_id[:4].translate(str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                                     "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"))
    body = (f"承認します。\n仮ID：{full_width}-{temp_id[4:]}\n"
            f"仮パスワード：{temp_password[:4]} {temp_password[4:]}\n担当者：田中 一郎")
    message = answer(gw, body, "someone@other-domain.example")
    assert message["status"] == "processed", message
    got = gw.invitation(inv["id"])
    assert got["state"] == "approved" and got["contact_person"] == "田中 一郎"
    assert got["redeemed_at"] is not None


def test_wrong_credentials_are_refused_with_a_mail_and_then_locked(gw: GatewayProcess) -> None:
    inv = paper_invitation(gw, "postcard")
    temp_id, temp_password = credentials_on_the_letter(gw, inv)
    wrong = "".join("2" if c != "2" else "3" for c in temp_password)
    sender = f"guesser-{uuid.uuid4().hex[:6]}@other.example"
    first = answer(gw, f"承認\n仮ID {temp_id}\n仮パスワード {wrong}", sender)
    assert first["status"] == "refused" and "wrong temporary password" in first["reason"]
    told = wait_for(lambda: [o for o in gw.outbox(to=sender) if o["kind"] == "credentials_refused"])
    assert "仮ID・仮パスワード" in told[0]["subject"]
    for _ in range(4):
        last = answer(gw, f"承認\n仮ID {temp_id}\n仮パスワード {wrong}", sender)
    assert "locked" in last["reason"]
    locks = gw.api("GET", "/api/locks")
    assert any(lock["who"] == sender for lock in locks)
    assert any(lock["who"] == f"INV-{inv['id']}" for lock in locks)
    # Locked means locked: even the right pair is refused now.
    right = answer(gw, f"承認\n仮ID {temp_id}\n仮パスワード {temp_password}", sender)
    assert right["status"] == "refused" and "locked" in right["reason"]
    assert gw.invitation(inv["id"])["state"] == "issued"
    assert "Locked after wrong credentials" in gw.http.get("/").text


def test_an_unknown_temporary_id_is_refused(gw: GatewayProcess) -> None:
    message = answer(gw, "承認します\n仮ID: 2345 6789\n仮パスワード: ACEF HJKM", f"x-{uuid.uuid4().hex[:6]}@a.example")
    assert message["status"] == "refused" and "unknown temporary ID" in message["reason"]
