"""Orders to suppliers off the platform, end to end: a running gateway, real SMTP, the order sheet as PDF."""

from __future__ import annotations

import email
import email.policy
import io
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from harness import GatewayProcess, gateway_env, private_database, wait_for
from samples.compose import compose_reply
from workflows import clock

pytestmark = pytest.mark.slow

TOMATO, CABBAGE, ONION = "トマト", "キャベツ", "玉ねぎ"


def make_buyer(gw: GatewayProcess) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return dict(gw.api("POST", "/api/buyers", json={
        "name": f"レストラン花子 {tag}", "email": f"orders-{tag}@hanako.example", "phone": "03-5555-0101",
        "fax": "03-5555-0102",
        "delivery_addresses": [{"name": "本店", "postal_code": "150-0001", "address": "東京都渋谷区神宮前1-2-3",
                                "phone": "03-5555-0101", "recipient": "厨房 佐藤"}],
    }))


def make_supplier(gw: GatewayProcess, buyer: dict[str, Any], channel: str, *, email_too: bool = True,
                  language: str = "ja") -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {"name": f"八百屋山田 {tag}", "contact_name": "山田 太郎", "channel": channel,
                            "language": language}
    if channel == "fax" or not email_too:
        body["fax"] = "03-1234-5678"
    if channel == "mail" or email_too:
        body["email"] = f"yamada-{tag}@yaoya.example"
    supplier = dict(gw.api("POST", f"/api/buyers/{buyer['id']}/suppliers", json=body))
    for name, unit, price in ((TOMATO, "ケース", 3200), (CABBAGE, "個", 180), (ONION, "kg", 300)):
        gw.api("PUT", f"/api/suppliers/{supplier['id']}/products", json={"name": name, "unit": unit,
                                                                          "unit_price": price})
    return supplier


def place(gw: GatewayProcess, buyer: dict[str, Any], supplier: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"buyer_id": buyer["id"], "supplier_id": supplier["id"], "orderer_name": "佐藤 花子",
            "desired_date": (clock.today() + timedelta(days=3)).isoformat(), "note": "午前中にお願いします",
            "lines": [{"product_name": TOMATO, "quantity": 5}, {"product_name": CABBAGE, "quantity": "10"},
                      {"product_name": "玉ねぎ", "quantity": "2.5", "note": "小さめ"}]} | extra
    response = gw.http.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def order(gw: GatewayProcess, order_id: int) -> dict[str, Any]:
    return dict(gw.api("GET", f"/api/orders/{order_id}"))


def wait_order(gw: GatewayProcess, order_id: int, state: str, timeout: float = 30.0) -> dict[str, Any]:
    return wait_for(lambda: (o := order(gw, order_id))["state"] == state and o, timeout, 0.1,
                    f"order {order_id} to be {state}")


def mails(gw: GatewayProcess, order_id: int, kind: str) -> list[dict[str, Any]]:
    return [m for m in gw.outbox(object_type="order", object_id=order_id) if m["kind"] == kind]


def wait_mail(gw: GatewayProcess, order_id: int, kind: str, count: int = 1) -> list[dict[str, Any]]:
    return wait_for(lambda: len(found := mails(gw, order_id, kind)) >= count and found, 30, 0.1,
                    f"{count} {kind} mail(s) for order {order_id}")


def reply(gw: GatewayProcess, supplier: dict[str, Any], placed: dict[str, Any], text: str,
          charset: str = "iso-2022-jp", **extra: Any) -> dict[str, Any]:
    """The supplier answers the order sheet mail from its own mail client."""
    # A supplier answers what it has received.
    sheet = wait_for(lambda: (m := mails(gw, placed["id"], "order_sheet")) and m[0]["status"] == "sent" and m[0],
                     30, 0.1, "the order sheet mail to be sent")
    message_id = f"{uuid.uuid4().hex}@yaoya.example"
    raw = compose_reply(answer=text, original_text=sheet["text"], original_subject=sheet["subject"],
                        from_addr=supplier["email"], to_addr=sheet["reply_to"], in_reply_to=sheet["message_id"],
                        message_id=message_id, charset=charset, **extra)
    gw.send(raw, rcpt=sheet["reply_to"], mail_from=supplier["email"])
    return gw.wait_message(message_id)


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def test_an_order_to_a_fax_supplier_is_faxed_as_an_order_sheet(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "fax", email_too=False)
    placed = place(gw, buyer, supplier)
    assert placed["number"].startswith("PO-") and placed["total"] == 5 * 3200 + 10 * 180 + 750
    got = wait_order(gw, placed["id"], "sent")
    (job,) = gw.api("GET", "/api/fax", params={"object_type": "order", "object_id": placed["id"]})
    assert (job["status"], job["kind"], job["number"]) == ("sent", "order_sheet", "+81312345678")
    spooled = (gw.home / "spool" / "fax" / f"fax-{job['id']}.pdf").read_bytes()
    text = pdf_text(spooled)
    for needle in (placed["number"], buyer["name"], supplier["name"], "佐藤 花子", TOMATO, "小さめ", "本店"):
        assert needle in text.replace(" ", "") or needle in text, needle
    assert not mails(gw, placed["id"], "order_sheet")  # by fax only
    assert [e["kind"] for e in got["timeline"]][:3] == ["created", "document", "fax"]
    assert gw.http.get(f"/api/orders/{placed['id']}/documents/order_sheet").content == spooled


def test_an_order_to_a_mail_supplier_is_mailed_with_the_sheet_and_the_lines(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    (sheet,) = wait_mail(gw, placed["id"], "order_sheet")
    assert sheet["to"] == supplier["email"] and sheet["reply_to"].startswith("reply+")
    assert TOMATO in sheet["text"] and "2.5kg" in sheet["text"] and placed["number"] in sheet["subject"]
    raw = gw.http.get(f"/api/outbox/{sheet['id']}/raw").content
    message = email.message_from_bytes(raw, policy=email.policy.default)
    (attachment,) = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content_type() == "application/pdf"
    assert placed["number"] in pdf_text(attachment.get_content())
    wait_order(gw, placed["id"], "sent")


@pytest.mark.parametrize(("text", "charset", "state", "confirmed"), [
    ("承りました。よろしくお願いいたします。", "iso-2022-jp", "confirmed", ["5", "10", "2.5"]),
    ("トマトは３ケースのみです。他は手配します。", "shift_jis", "partially_confirmed", ["3", "10", "2.5"]),
    ("欠品: キャベツ\n他は大丈夫です。", "utf-8", "partially_confirmed", ["5", "0", "2.5"]),
    ("Sorry, we cannot accept this order.", "utf-8", "declined", ["0", "0", "0"]),
])
def test_a_supplier_answer_by_mail_moves_the_order_and_tells_both_sides(
        gw: GatewayProcess, text: str, charset: str, state: str, confirmed: list[str]) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    message = reply(gw, supplier, placed, text, charset=charset)
    assert message["status"] == "processed", message["reason"]
    got = wait_order(gw, placed["id"], state)
    assert [line["confirmed_quantity"] for line in got["lines"]] == confirmed
    (confirmation,) = wait_mail(gw, placed["id"], "order_confirmation")
    assert confirmation["to"] == buyer["email"] and "注文確認" in confirmation["subject"]
    (ack,) = wait_mail(gw, placed["id"], "order_acknowledgement")
    assert ack["to"] == supplier["email"]


def test_a_supplier_can_change_its_answer_until_shipping_and_the_buyer_hears_each_change(
        gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    reply(gw, supplier, placed, "全部OKです。納品は明後日になります。")
    first = wait_order(gw, placed["id"], "confirmed")
    assert first["delivery_date"] is not None and date.fromisoformat(first["delivery_date"]) > clock.today()
    reply(gw, supplier, placed, "すみません、キャベツ欠品でした。")
    got = wait_order(gw, placed["id"], "partially_confirmed")
    assert [line["confirmed_quantity"] for line in got["lines"]] == ["5", "0", "2.5"]
    assert len(wait_mail(gw, placed["id"], "order_confirmation", 2)) == 2
    gw.api("POST", f"/api/orders/{placed['id']}/ship", json={})
    late = reply(gw, supplier, placed, "やはり全部OKです。")
    assert late["status"] == "refused" and "already shipped" in late["reason"]


def test_an_unclear_answer_goes_to_review_and_an_operator_decides_it(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    message = reply(gw, supplier, placed, "納期はいつがよろしいでしょうか？")
    assert message["status"] == "review"
    assert order(gw, placed["id"])["state"] == "sent"
    review = [m["id"] for m in gw.api("GET", "/api/review")]
    assert message["id"] in review
    bad = gw.http.post(f"/api/messages/{message['id']}/resolve",
                       json={"intent": "partial", "quantities": {"1": "9"}})
    assert bad.status_code == 422 and "between 0 and the 5 ordered" in bad.text
    gw.api("POST", f"/api/messages/{message['id']}/resolve",
           json={"intent": "partial", "quantities": {"1": "4"}, "delivery_date": "2030-01-15"})
    got = order(gw, placed["id"])
    assert got["state"] == "partially_confirmed" and got["delivery_date"] == "2030-01-15"
    assert [line["confirmed_quantity"] for line in got["lines"]] == ["4", "10", "2.5"]


def test_a_reply_from_a_stranger_does_not_touch_the_order(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    message = reply(gw, supplier | {"email": "mallory@evil.example"}, placed, "承りました")
    assert message["status"] == "review" and "is not the supplier" in message["reason"]
    assert order(gw, placed["id"])["state"] in ("placed", "sent")


def test_shipping_gives_a_delivery_note_and_inspection_delivers_the_order(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    early = gw.http.post(f"/api/orders/{placed['id']}/ship", json={})
    assert early.status_code == 409 and "only a confirmed order" in early.text
    reply(gw, supplier, placed, "トマト 3ケースのみ")
    wait_order(gw, placed["id"], "partially_confirmed")
    shipped = gw.api("POST", f"/api/orders/{placed['id']}/ship", json={"shipped_on": clock.today().isoformat()})
    assert shipped["state"] == "shipped" and "delivery_note" in shipped["documents"]
    note = pdf_text(gw.http.get(f"/api/orders/{placed['id']}/documents/delivery_note").content)
    assert placed["number"] in note and TOMATO in note
    assert len(wait_mail(gw, placed["id"], "order_confirmation", 2)) == 2  # partial, then shipped

    gw.api("POST", f"/api/orders/{placed['id']}/inspection",
           json={"lines": [{"position": 1, "delivered_quantity": "3"}, {"position": 2, "delivered_quantity": "8"}]})
    undelivered = gw.api("GET", "/api/orders", params={"undelivered": "true", "buyer_id": buyer["id"]})
    assert [(o["id"], o["undelivered"]) for o in undelivered] == [(placed["id"], [2, 3])]
    done = gw.api("POST", f"/api/orders/{placed['id']}/inspection",
                  json={"lines": [{"position": 2, "delivered_quantity": "10"}, {"position": 3}]})
    assert done["state"] == "delivered" and done["undelivered"] == []
    assert not gw.api("GET", "/api/orders", params={"undelivered": "true", "buyer_id": buyer["id"]})
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds.count("inspection") == 2 and kinds[-1] == "transition"


def test_a_reorder_places_the_same_order_again(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "mail")
    placed = place(gw, buyer, supplier)
    gw.api("PUT", f"/api/suppliers/{supplier['id']}/products", json={"name": TOMATO, "unit": "ケース",
                                                                      "unit_price": 3500})
    again = gw.api("POST", f"/api/orders/{placed['id']}/reorder", json={})
    assert again["reorder_of"] == placed["id"] and again["number"] != placed["number"]
    assert [(line["product_name"], line["quantity"]) for line in again["lines"]] == \
        [(line["product_name"], line["quantity"]) for line in placed["lines"]]
    assert again["lines"][0]["unit_price"] == 3500  # today's price
    assert wait_mail(gw, again["id"], "order_sheet")
    assert any(e["kind"] == "reordered" for e in order(gw, placed["id"])["timeline"])


def faxed_back(gw: GatewayProcess, placed: dict[str, Any], marks: list[tuple[str, str]], *,
               quantities: dict[int, str] | None = None, date_text: str | None = None, upside_down: bool = False,
               resolution: str = "normal", seed: int = 1) -> dict[str, Any]:
    """The supplier fills in the faxed order sheet and faxes it back; a fax-to-email service mails it to us."""
    import random

    from samples import faxsim
    from samples.demo import fax_delivery
    from workflows.order_documents.fax_forms import order_form_geometry
    from workflows.order_documents.geometry import DATE_FIELD, quantity_field_name

    rng = random.Random(seed)
    geometry = order_form_geometry()
    page = faxsim.rasterize(gw.http.get(f"/api/orders/{placed['id']}/documents/order_sheet").content, 200)
    for answer, style in marks:
        page = faxsim.mark(page, geometry, answer, style, rng)
    for position, text in (quantities or {}).items():
        page = faxsim.write_field(page, geometry, quantity_field_name(position - 1), text, rng)
    if date_text:
        page = faxsim.write_field(page, geometry, DATE_FIELD, date_text, rng)
    fax = faxsim.degrade(page, resolution=resolution, skew_deg=rng.uniform(-2.5, 2.5), noise=0.5,  # type: ignore[arg-type]
                         upside_down=upside_down, rng=rng)
    message_id = f"{uuid.uuid4().hex}@fax.example.net"
    gw.send(fax_delivery(faxsim.to_pdf([fax]), message_id, "torii.test"), rcpt="fax@torii.test",
            mail_from="fax-service@fax.example.net")
    return gw.wait_message(message_id, timeout=90)


# The day the dated sheets are ordered and answered on. Handwritten dates are read reliably only in some
# shapes yet (12/1 is, 2/3 is not: bench/order_sheets.py), so these cases pin the gateway's day rather than
# write another date each day the suite runs.
ORDERED = datetime(2026, 11, 28, 10, 0, tzinfo=clock.TOKYO)


@pytest.fixture(scope="module")
def gw_dated(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GatewayProcess]:
    home: Path = tmp_path_factory.mktemp("torii-dated-home")
    with private_database(home) as database_url:
        env = gateway_env(home, database_url, redis_url, TORII_CLOCK_SHIFT=str(ORDERED.timestamp() - time.time()))
        proc = GatewayProcess(home, env).start()
        yield proc
        assert proc.stop() == 0, proc.log_tail()


@pytest.mark.parametrize(("marks", "quantities", "date_text", "upside_down", "state", "confirmed"), [
    ([("confirm", "tick")], {}, "12/1", False, "confirmed", ["5", "10", "2.5"]),
    ([("partial", "cross")], {1: "3", 2: "0"}, None, True, "partially_confirmed", ["3", "0", "2.5"]),
    ([("decline", "circle")], {}, None, False, "declined", ["0", "0", "0"]),
    ([("partial", "fill")], {3: "1.5"}, "12/3", False, "partially_confirmed", ["5", "10", "1.5"]),
])
def test_a_faxed_back_order_sheet_moves_the_order(gw_dated: GatewayProcess, frozen_clock: clock.FrozenClock,
                                                  marks: list[tuple[str, str]], quantities: dict[int, str],
                                                  date_text: str | None, upside_down: bool, state: str,
                                                  confirmed: list[str]) -> None:
    gw = gw_dated
    frozen_clock.set(ORDERED)
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "fax", email_too=False)
    placed = place(gw, buyer, supplier)
    wait_order(gw, placed["id"], "sent")
    message = faxed_back(gw, placed, marks, quantities=quantities, date_text=date_text, upside_down=upside_down)
    assert message["status"] == "processed", message["reason"]
    got = wait_order(gw, placed["id"], state)
    assert [line["confirmed_quantity"] for line in got["lines"]] == confirmed
    written = {"12/1": "2026-12-01", "12/3": "2026-12-03"}
    assert got["delivery_date"] == (written[date_text] if date_text else placed["delivery_date"])
    (confirmation,) = wait_mail(gw, placed["id"], "order_confirmation")
    assert confirmation["to"] == buyer["email"]
    # A fax-only supplier gets its acknowledgement by fax.
    wait_for(lambda: any(j["kind"] == "order_acknowledgement" for j in fax_jobs(gw, placed["id"])), 30, 0.2,
             "the acknowledgement fax")


@pytest.mark.parametrize("marks", [[("confirm", "tick"), ("decline", "tick")], []])
def test_a_double_ticked_or_blank_order_sheet_goes_to_review_with_its_page(gw: GatewayProcess,
                                                                          marks: list[tuple[str, str]]) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "fax", email_too=False)
    placed = place(gw, buyer, supplier)
    wait_order(gw, placed["id"], "sent")
    message = faxed_back(gw, placed, marks)
    assert message["status"] == "review" and "order sheet unclear" in message["reason"]
    assert message["object"] == {"type": "order", "id": placed["id"]}
    assert message["parse"]["fax"]["documents"]
    assert order(gw, placed["id"])["state"] == "sent"


def test_console_lists_orders_and_shows_their_timeline(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    supplier = make_supplier(gw, buyer, "fax", email_too=False)
    placed = place(gw, buyer, supplier)
    assert placed["number"] in gw.http.get("/").text
    page = gw.http.get(f"/orders/{placed['id']}").text
    assert placed["number"] in page and TOMATO in page and "order_sheet" in page


# --- a gateway with an email-to-fax service, quick retries and a short answer deadline ---------


@pytest.fixture(scope="module")
def gw_fax(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GatewayProcess]:
    # A database of its own: the session gateway's sweep would otherwise take this one's fax jobs and timers.
    home: Path = tmp_path_factory.mktemp("torii-fax-home")
    with private_database(home) as database_url:
        env = gateway_env(home, database_url, redis_url, TORII_FAX_GATEWAY_DOMAIN="fax.example.net",
                          TORII_FAX_RETRY_MINUTES="0.02,0.02", TORII_ORDER_ANSWER_HOURS="0.002")
        proc = GatewayProcess(home, env).start()
        yield proc
        assert proc.stop() == 0, proc.log_tail()


def fax_report(gw: GatewayProcess, job_id: int, text: str) -> dict[str, Any]:
    message_id = f"{uuid.uuid4().hex}@fax.example.net"
    raw = (f"From: report@fax.example.net\r\nTo: fax@torii.test\r\nSubject: [FAX-{job_id}] 送信結果\r\n"
           f"Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode()
    gw.send(raw, rcpt="fax@torii.test", mail_from="report@fax.example.net")
    return gw.wait_message(message_id)


def fax_jobs(gw: GatewayProcess, order_id: int) -> list[dict[str, Any]]:
    return list(gw.api("GET", "/api/fax", params={"object_type": "order", "object_id": order_id}))


def test_a_fax_that_keeps_failing_is_retried_then_the_sheet_goes_by_mail(gw_fax: GatewayProcess) -> None:
    buyer = make_buyer(gw_fax)
    supplier = make_supplier(gw_fax, buyer, "fax", email_too=True)
    placed = place(gw_fax, buyer, supplier)
    job = wait_for(lambda: (jobs := fax_jobs(gw_fax, placed["id"])) and jobs[0]["status"] == "sending" and jobs[0],
                   30, 0.1, "the order sheet handed to the fax service")
    for attempt in (1, 2):
        fax_report(gw_fax, job["id"], "送信できませんでした（話中）")
        wait_for(lambda n=attempt: (j := fax_jobs(gw_fax, placed["id"])[0])["attempts"] > n
                 and j["status"] == "sending", 60, 0.2, f"attempt {attempt + 1}")
    assert not mails(gw_fax, placed["id"], "order_sheet")
    fax_report(gw_fax, job["id"], "送信できませんでした（応答なし）")
    (sheet,) = wait_mail(gw_fax, placed["id"], "order_sheet")  # the fallback
    assert sheet["to"] == supplier["email"]
    assert fax_jobs(gw_fax, placed["id"])[0]["status"] == "failed"
    got = wait_order(gw_fax, placed["id"], "sent")
    assert any(e["kind"] == "fallback" for e in got["timeline"])


def test_a_fax_only_supplier_that_cannot_be_reached_is_flagged_for_an_operator(gw_fax: GatewayProcess) -> None:
    buyer = make_buyer(gw_fax)
    supplier = make_supplier(gw_fax, buyer, "fax", email_too=False)
    placed = place(gw_fax, buyer, supplier)
    job = wait_for(lambda: (jobs := fax_jobs(gw_fax, placed["id"])) and jobs[0]["status"] == "sending" and jobs[0],
                   30, 0.1, "the order sheet handed to the fax service")
    fax_report(gw_fax, job["id"], "Transmission failed: invalid fax number")
    got = wait_order(gw_fax, placed["id"], "undeliverable")
    assert got["flag"] and "call the supplier" in got["flag"]
    flagged = gw_fax.api("GET", "/api/orders", params={"flagged": "true", "buyer_id": buyer["id"]})
    assert [o["id"] for o in flagged] == [placed["id"]]


def test_no_answer_by_the_deadline_reminds_the_supplier_and_tells_the_buyer(gw_fax: GatewayProcess) -> None:
    buyer = make_buyer(gw_fax)
    supplier = make_supplier(gw_fax, buyer, "mail")
    placed = place(gw_fax, buyer, supplier)
    (reminder,) = wait_mail(gw_fax, placed["id"], "order_reminder")
    assert reminder["to"] == supplier["email"] and "再送" in reminder["subject"]
    (overdue,) = wait_mail(gw_fax, placed["id"], "order_overdue")
    assert overdue["to"] == buyer["email"]
    got = order(gw_fax, placed["id"])
    assert got["flag"] and "no answer" in got["flag"]
    reply(gw_fax, supplier, placed, "遅くなりました。承りました。")
    answered = wait_order(gw_fax, placed["id"], "confirmed")
    assert answered["flag"] is None
    assert len(mails(gw_fax, placed["id"], "order_reminder")) == 1  # once


def test_csv_import_takes_a_good_file_whole_and_refuses_a_bad_one_whole(gw: GatewayProcess) -> None:
    buyer = make_buyer(gw)
    samples = Path(__file__).resolve().parents[2] / "samples" / "csv"
    good = gw.http.post(f"/api/buyers/{buyer['id']}/import/suppliers",
                        content=(samples / "suppliers.utf8.csv").read_bytes(), headers={"Content-Type": "text/csv"})
    assert good.status_code == 200 and good.json()["created"] == 3
    products = gw.http.post(f"/api/buyers/{buyer['id']}/import/products",
                            content=(samples / "products.cp932.csv").read_bytes(),
                            headers={"Content-Type": "text/csv"})
    assert products.status_code == 200 and products.json()["encoding"] == "cp932"
    bad = "発注先名,商品名,単位,単価\r\n有限会社 八百新青果,ネギ,束,abc\r\n存在しない商店,大根,本,100\r\n"
    refused = gw.http.post(f"/api/buyers/{buyer['id']}/import/products", content=bad.encode("cp932"),
                           headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    rows = refused.json()["rows"]
    assert [r["row"] for r in rows] == [2, 3] and "存在しない商店" in rows[1]["message"]
    suppliers = {s["name"]: s for s in gw.api("GET", f"/api/buyers/{buyer['id']}")["suppliers"]}
    names = [p["name"] for p in gw.api("GET", f"/api/suppliers/{suppliers['有限会社 八百新青果']['id']}")["products"]]
    assert "ネギ" not in names and len(names) == 3  # nothing of the bad file was kept
