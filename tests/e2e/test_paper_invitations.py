"""Paper invitations (fax and postcard) answered by mail with the temporary ID and password."""

from __future__ import annotations

import io
import random
import re
import uuid
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pdfplumber
import pytest

from harness import GatewayProcess, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow

CORPUS_PDF = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "pdf" / "bad"


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
    assert f"/outbox/fax/{job['id']}/document" in gw.http.get("/outbox", params={"channel": "fax"}).text
    assert f"/api/invitations/{inv['id']}/letter" in gw.http.get(f"/invitations/{inv['id']}").text


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


def fax_to_email(pdf: bytes, sender: str = "fax-service@fax.example.net") -> bytes:
    """A fax-to-email delivery: the received fax as a PDF attachment, as fax services send it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "fax@torii.test"
    msg["Subject"] = "FAX受信 from 0312345678 (1 page)"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@fax.example.net>"
    msg["Auto-Submitted"] = "auto-generated"  # services mark their deliveries; they must still be read
    msg.set_content("FAXを受信しました。添付ファイルをご確認ください。")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="fax_0312345678.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def returned_form(gw: GatewayProcess, inv: dict[str, Any] | bytes, box: str | None, style: str, *,
                  upside_down: bool = False, seed: int = 1, second: str | None = None, defaced: bool = False) -> bytes:
    """The letter (an invitation's, or a PDF) marked, signed, faxed; ``defaced``: QR and reference scribbled over."""
    from samples import faxsim
    from workflows.letters import faxback_geometry

    geometry = faxback_geometry()
    rng = random.Random(seed)
    letter = inv if isinstance(inv, bytes) else gw.http.get(f"/api/invitations/{inv['id']}/letter").content
    page = faxsim.rasterize(letter, 200)
    for answer in (box, second):
        if answer:
            page = faxsim.mark(page, geometry, answer, style, rng)  # type: ignore[arg-type]
    page = faxsim.write_name(page, geometry, "田中", rng)
    if defaced:
        page = faxsim.deface(faxsim.deface(page, geometry, "qr", rng), geometry, "reference_text", rng)
    fax = faxsim.degrade(page, resolution="normal", skew_deg=-1.2, noise=0.4, upside_down=upside_down, rng=rng)
    return faxsim.to_pdf([fax])


def send_fax_back(gw: GatewayProcess, pdf: bytes) -> dict[str, Any]:
    raw = fax_to_email(pdf)
    message_id = re.search(rb"Message-ID: <([^>]+)>", raw).group(1).decode()  # type: ignore[union-attr]
    gw.send(raw, rcpt="fax@torii.test", mail_from="fax-service@fax.example.net")
    return gw.wait_message(message_id, timeout=60)


@pytest.mark.parametrize(("box", "style", "upside_down", "state"), [
    ("approve", "tick", False, "approved"),
    ("reject", "cross", True, "rejected"),
    ("hold", "circle", False, "held"),
    ("approve", "fill", False, "approved"),
])
def test_a_faxed_back_form_drives_the_invitation(gw: GatewayProcess, box: str, style: str, upside_down: bool,
                                                 state: str) -> None:
    inv = paper_invitation(gw)
    gw.wait_state(inv["id"], "sent")
    message = send_fax_back(gw, returned_form(gw, inv, box, style, upside_down=upside_down))
    assert message["status"] == "processed", message
    assert message["kind"] == "fax"
    got = gw.invitation(inv["id"])
    assert got["state"] == state
    assert any(e["kind"] == "inbound" and e["data"]["via"] == "fax-back form" for e in got["timeline"])


@pytest.mark.parametrize("second", [None, "reject"], ids=["blank", "double-ticked"])
def test_blank_and_double_ticked_forms_go_to_review_with_the_page(gw: GatewayProcess, second: str | None) -> None:
    inv = paper_invitation(gw)
    gw.wait_state(inv["id"], "sent")
    box = "approve" if second else None
    message = send_fax_back(gw, returned_form(gw, inv, box, "tick", second=second))
    assert message["status"] == "review", message
    assert message["object"] == {"type": "invitation", "id": inv["id"]}
    assert message["parse"]["fax"]["documents"]  # the page image is kept for the operator
    assert gw.invitation(inv["id"])["state"] == "sent"


@pytest.mark.parametrize("upside_down", [False, True], ids=["upright", "upside-down"])
def test_a_form_whose_code_and_reference_are_lost_is_found_by_its_temporary_id(gw: GatewayProcess,
                                                                             upside_down: bool) -> None:
    inv = paper_invitation(gw)
    gw.wait_state(inv["id"], "sent")
    message = send_fax_back(gw, returned_form(gw, inv, "reject", "cross", upside_down=upside_down, seed=5,
                                              defaced=True))
    assert message["status"] == "processed", message
    assert message["object"] == {"type": "invitation", "id": inv["id"]}
    assert message["parse"]["fax"]["found_by"] == "temporary ID (OCR)"
    got = gw.invitation(inv["id"])
    assert got["state"] == "rejected"
    assert any(e["kind"] == "inbound" and e["data"]["via"] == "temporary ID (OCR)" for e in got["timeline"])


def test_a_defaced_form_whose_temporary_id_is_no_invitations_goes_to_review_with_the_reason(
        gw: GatewayProcess) -> None:
    from workflows.credentials import new_temporary_credentials
    from workflows.letters import reference_for, render_letter

    inv = paper_invitation(gw)
    gw.wait_state(inv["id"], "sent")
    # A letter like the gateway's, but with a temporary ID it never issued.
    temp_id, temp_password = new_temporary_credentials()
    letter = render_letter(SimpleNamespace(id=inv["id"], issuer_company="株式会社インフォ商会", issuer_name="鈴木 二郎",
                                           partner_company="有限会社さくら青果", partner_name="田中 一郎", comment="",
                                           language="ja"),
                           temp_id, temp_password, layout="fax", reference=reference_for(inv["id"], b"not the key" * 3))
    message = send_fax_back(gw, returned_form(gw, letter, "approve", "tick", seed=6, defaced=True))
    assert message["status"] == "review", message
    assert "no invitation has the temporary ID read by OCR" in message["reason"]
    assert gw.invitation(inv["id"])["state"] == "sent"


def test_a_fax_with_an_encrypted_pdf_is_kept_for_review_with_the_reason(gw: GatewayProcess) -> None:
    encrypted = CORPUS_PDF / "pypdf__encrypted-file.pdf"
    if not encrypted.exists():
        pytest.skip("the shared corpus is absent")
    message = send_fax_back(gw, encrypted.read_bytes())
    assert message["status"] == "review"
    assert "encrypted" in message["reason"]
