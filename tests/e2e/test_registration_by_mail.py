"""Registration end to end (manual 001) against a real `torii up`: a supplier mails register@, follows
the link, applies with a JAN maker code and a wholesaler, the wholesaler approves by replying (or by
faxing back its approval sheet), and the completion mail and the company ID are there."""

from __future__ import annotations

import email
import email.policy
import random
import re
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from harness import GatewayProcess, wait_for
from samples import faxsim
from samples.compose import compose_reply
from samples.demo import fax_delivery
from workflows.letters import faxback_geometry

pytestmark = pytest.mark.slow


def mail(gw: GatewayProcess, *, to: str, from_addr: str, subject: str, body: str) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = from_addr, to, subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@supplier.example>"
    msg.set_content(body)
    gw.send(msg.as_bytes(), rcpt=to, mail_from=from_addr)
    return str(msg["Message-ID"]).strip("<>")


def sent_to(gw: GatewayProcess, address: str, kind: str) -> dict[str, Any]:
    return wait_for(lambda: next((o for o in gw.outbox(to=address) if o["kind"] == kind and o["status"] == "sent"),
                                 None), 30, 0.1, f"the {kind} mail to {address}")


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_a_supplier_gets_its_company_id_by_mail_with_its_wholesaler_approving_by_reply(gw: GatewayProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    applicant, wholesaler, admin = (f"{who}-{tag}@{domain}" for who, domain in (
        ("tanaka", "tesuto-foods.example"), ("sato", "oroshi.example"), ("kanri", "tesuto-foods.example")))
    message_id = mail(gw, to=f"register@{gw.domain}", from_addr=applicant, subject="企業ID申請",
                      body=f"企業名：株式会社テスト食品{tag}\nよろしくお願いします。")
    assert gw.wait_message(message_id)["status"] == "processed"

    link_mail = sent_to(gw, applicant, "registration_link")
    assert "利用規約" in link_mail["text"] and "10日" in link_mail["text"]
    link = re.search(r"http://\S+/register/[\w-]+", link_mail["text"])
    assert link, link_mail["text"]
    with httpx.Client(timeout=30) as browser:
        page = browser.get(link.group(0))
        assert page.status_code == 200 and f"テスト食品{tag}" in page.text
        answer = browser.post(link.group(0), data={
            "csrf_token": form_token(page), "agree": "yes", "company_name": f"株式会社テスト食品{tag}",
            "company_address": "東京都中央区1-1-1", "company_phone": "03-1234-5678",
            "jan_maker_code": "4569951116179",  # a whole JAN: its check digit holds
            "wholesaler_company": "卸売商事株式会社", "wholesaler_department": "営業部",
            "wholesaler_contact": "佐藤 一郎", "wholesaler_email": wholesaler,
            "admin_name": "管理 太郎", "admin_email": admin})
        assert answer.status_code == 200, answer.text
        assert browser.get(link.group(0)).status_code == 410  # the link works once

    request = sent_to(gw, wholesaler, "registration_wholesaler_request")
    assert f"テスト食品{tag}" in request["text"] and "456995111" in request["text"]
    reply_id = f"{uuid.uuid4().hex}@oroshi.example"
    raw = compose_reply(answer="承認します。お取引があります。", original_text=request["text"],
                        original_subject=request["subject"], from_addr=wholesaler, from_name="佐藤 一郎",
                        to_addr=request["reply_to"], in_reply_to=request["message_id"], message_id=reply_id)
    gw.send(raw, rcpt=request["reply_to"], mail_from=wholesaler)
    assert gw.wait_message(reply_id)["status"] == "processed"

    complete = sent_to(gw, admin, "registration_complete")
    assert "会員登録完了のお知らせ" in complete["subject"]
    [company] = gw.api("GET", "/api/companies", params={"q": f"テスト食品{tag}"})
    assert re.fullmatch(r"C\d{6}", company["company_id"]) and company["jan_maker_code"] == "456995111"
    assert company["company_id"] in complete["text"] and f"{company['company_id']}-001" in complete["text"]
    assert "パスワード" in complete["text"] and "/register/password/" in complete["text"]
    detail = gw.api("GET", f"/api/companies/{company['id']}")
    assert [(a["account_id"], a["role"], a["password_set"]) for a in detail["accounts"]] == [
        (f"{company['company_id']}-001", "admin", False)]

    # The same company asking again gets its administrator, masked, and no second application.
    again = mail(gw, to=f"register@{gw.domain}", from_addr=f"suzuki-{tag}@tesuto-foods.example",
                 subject="企業ID申請", body=f"会社名: (株)テスト食品{tag}")
    assert gw.wait_message(again)["status"] == "processed"
    existing = sent_to(gw, f"suzuki-{tag}@tesuto-foods.example", "registration_existing")
    assert company["company_id"] in existing["text"] and "ka***@tesuto-foods.example" in existing["text"]
    assert admin not in existing["text"]


def reply_to(gw: GatewayProcess, original: dict[str, Any], sender: str, text: str) -> dict[str, Any]:
    reply_id = f"{uuid.uuid4().hex}@{sender.rpartition('@')[2]}"
    raw = compose_reply(answer=text, original_text=original["text"], original_subject=original["subject"],
                        from_addr=sender, to_addr=original["reply_to"], in_reply_to=original["message_id"],
                        message_id=reply_id)
    gw.send(raw, rcpt=original["reply_to"], mail_from=sender)
    return gw.wait_message(reply_id)


def test_an_application_by_reply_is_refused_for_free_mail_then_rejected_by_the_wholesaler(gw: GatewayProcess
                                                                                            ) -> None:
    tag = uuid.uuid4().hex[:6]
    applicant, wholesaler = f"yamada-{tag}@hatake.example", f"ito-{tag}@oroshi.example"
    mail(gw, to=f"register@{gw.domain}", from_addr=applicant, body="Hello, we would like a company ID.",
         subject=f"Company ID request: Hatake Farm {tag} Co., Ltd.")
    link_mail = sent_to(gw, applicant, "registration_link")
    assert link_mail["subject"].startswith("[Torii]")  # asked in English, answered in English
    form = "\n".join([f"Company name: Hatake Farm {tag} Co., Ltd.", "Head office address: 1-1 Nagano",
                      "Phone: 026-000-0000", "JAN maker code: 4512345", "Wholesaler company: Oroshi Inc.",
                      "Wholesaler department: Produce", "Wholesaler contact: Ito",
                      f"Wholesaler contact email: {wholesaler}",
                      "ID administrator name: Yamada", "ID administrator email: yamada.hatake@gmail.com"])
    refused = reply_to(gw, link_mail, applicant, form)
    assert refused["status"] == "refused" and "free-mail" in refused["reason"]
    fix = sent_to(gw, applicant, "registration_fix")
    assert "gmail.com" in fix["text"] and "/register/" in fix["text"]

    corrected = form.replace("yamada.hatake@gmail.com", f"admin-{tag}@hatake.example")
    applied = reply_to(gw, link_mail, applicant, corrected)
    assert applied["status"] == "processed", applied["reason"]
    request = sent_to(gw, wholesaler, "registration_wholesaler_request")
    # The applicant cannot approve its own application by replying in the wholesaler's place.
    forged = reply_to(gw, request, applicant, "承認")
    assert forged["status"] == "review" and "wholesaler" in forged["reason"]

    rejected = reply_to(gw, request, wholesaler, "非承認\n取引がありません。")
    assert rejected["status"] == "processed", rejected
    told = sent_to(gw, applicant, "registration_rejected")
    assert "取引がありません" in told["text"]
    [registration] = [r for r in gw.api("GET", "/api/registrations", params={"state": "rejected"})
                      if r["applicant_email"] == applicant]
    events = gw.api("GET", "/api/webhooks/events", params={"object_type": "registration",
                                                           "object_id": registration["id"]})
    assert [e["type"] for e in events] == ["registration.applied", "registration.rejected"]


def test_the_wholesaler_approves_by_faxing_back_its_approval_sheet(gw: GatewayProcess) -> None:
    tag = uuid.uuid4().hex[:6]
    applicant, wholesaler = f"mori-{tag}@mori-seika.example", f"kato-{tag}@oroshi.example"
    made = gw.api("POST", "/api/registrations", json={"applicant_email": applicant,
                                                      "company_name": f"森青果{tag}合同会社"})
    with httpx.Client(timeout=30) as browser:
        page = browser.get(made["application_link"])
        assert browser.post(made["application_link"], data={
            "csrf_token": form_token(page), "agree": "yes", "company_name": f"森青果{tag}合同会社",
            "company_address": "長野県長野市1-1", "company_phone": "026-111-1111", "jan_maker_code": "4512340",
            "wholesaler_company": "信州卸株式会社", "wholesaler_department": "青果部", "wholesaler_contact": "加藤",
            "wholesaler_email": wholesaler, "admin_name": "森 一郎", "admin_email": f"admin-{tag}@mori-seika.example",
        }).status_code == 200
    request = sent_to(gw, wholesaler, "registration_wholesaler_request")
    raw = gw.http.get(f"/api/outbox/{request['id']}/raw").content
    [sheet] = [part for part in email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
               if part.get_filename() == f"approval-REG-{made['id']}.pdf"]

    rng = random.Random(21)
    ticked = faxsim.mark(faxsim.rasterize(sheet.get_content(), 200), faxback_geometry(), "approve", "tick", rng)
    fax = faxsim.degrade(ticked, resolution="fine", skew_deg=0.8, noise=0.3, upside_down=False, rng=rng)
    message_id = f"{uuid.uuid4().hex}@fax.example.net"
    gw.send(fax_delivery(faxsim.to_pdf([fax]), message_id, gw.domain), rcpt=f"fax@{gw.domain}",
            mail_from="fax-service@fax.example.net")
    got = gw.wait_message(message_id, timeout=60)
    assert got["status"] == "processed", got["reason"]
    assert gw.api("GET", f"/api/registrations/{made['id']}")["state"] == "issued"
    assert "会員登録完了" in sent_to(gw, f"admin-{tag}@mori-seika.example", "registration_complete")["subject"]
