"""The console's review screens: the queue, a reply in review, a fax order to correct, through real sessions.

Messages come in as mail through intake and the inbound pipeline (an unclear reply to an invitation);
fax orders are made as the intake makes them, with a reading shaped by the workflow's own
``free_form_lines``, so that the page shows what a real fax order holds.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from PIL import Image
from sqlalchemy import select

from gateway import intake
from gateway.console.review import mail_parts
from parsers.faxorder.readings import Field, FreeFormReading, ItemLine
from webapp import WebApp
from workflows import clock, inbound, invitation
from workflows.catalog.register import put_product
from workflows.fax_order.matching import free_form_lines
from workflows.inbound import attempts
from workflows.models import (
    Buyer,
    DeliveryAddress,
    Document,
    Event,
    FaxOrder,
    InboundMessage,
    InboundStatus,
    Invitation,
    Product,
    Supplier,
)

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PARTNER = "yamada@partner.example"


def page_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (210, 297), 255).save(out, "PNG")
    return out.getvalue()


def shop(web: WebApp, name: str, fax: str) -> tuple[int, int, dict[str, int]]:
    """A buyer with one supplier and its products: (buyer id, supplier id, product ids by name)."""
    with web.runtime.db.transaction() as session:
        buyer = Buyer(name=name, email=f"order@{fax[-4:]}.example", fax=fax)
        session.add(buyer)
        session.flush()
        session.add(DeliveryAddress(buyer_id=buyer.id, name="本店", address="東京都台東区1-2-3"))
        supplier = Supplier(buyer_id=buyer.id, name=f"八百新青果 {name}", channel="fax", fax_number="+81312345678")
        session.add(supplier)
        session.flush()
        products = {}
        for product, unit in (("キャベツ", "玉"), ("大葉", "束"), ("鶏卵 Mサイズ", "パック")):
            products[product] = put_product(session, supplier.id, {"name": product, "unit": unit,
                                                                   "unit_price": 100})[0].id
        return buyer.id, supplier.id, products


def fax_delivery(web: WebApp, tag: str) -> int:
    """A delivery to the order fax address, stored as intake stores it; the id of its message."""
    message = EmailMessage()
    message["From"] = "fax@service.example"
    message["To"] = "fax-orders@torii.test"
    message["Subject"] = f"FAX受信 {tag}"
    message.set_content("1 page received")
    return intake.store(web.runtime.db, message.as_bytes(), channel="smtp", mail_from="fax@service.example",
                        rcpt_tos=["fax-orders@torii.test"]).id


def fax_order_in_review(web: WebApp, buyer_id: int, supplier_id: int, items: list[tuple[str, str]], *,
                        received_at: datetime, tag: str) -> int:
    """A fax order in ``needs_review`` with its page, as the intake leaves one it is unsure of."""
    inbound_id = fax_delivery(web, tag)
    with web.runtime.db.transaction() as session:
        catalog = list(session.scalars(select(Product).where(Product.supplier_id == supplier_id)))
        lines = tuple(ItemLine(Field(item, item, 0.55, 1, (20, 40 + 8 * i, 80, 46 + 8 * i)),
                               Field(qty, qty, 0.95, 1, (100, 40 + 8 * i, 110, 46 + 8 * i)))
                      for i, (item, qty) in enumerate(items))
        free = FreeFormReading(lines=lines, delivery_date=Field("来週火曜", None, 0.3, 1, (20, 20, 80, 26),
                                                                 reason="no date in 来週火曜"),
                               buyer_name=None, buyer_fax=None, supplier_name=None,
                               note=Field("午前中に", "午前中に", 0.9, 1, (20, 200, 80, 206)), layout="table")
        read_lines, fields = free_form_lines(free, catalog, {})
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        found = FaxOrder(inbound_id=inbound_id, state="needs_review", received_at=received_at,
                         sender_fax="+81355550101", buyer_id=buyer_id, supplier_id=supplier_id, page_count=1,
                         layout="free", reason="delivery date unsure")
        session.add(found)
        session.flush()
        page = Document(object_type="fax_order", object_id=found.id, kind="fax_page",
                        filename=f"fax-order-{found.id}-page-1.png", content_type="image/png", data=page_png())
        session.add(page)
        session.flush()
        found.reading = {"lines": read_lines, "fields": fields, "problems": [],
                         "pages": [{"number": 1, "width_mm": 210.0, "height_mm": 297.0, "source": "pdf",
                                    "document_id": page.id, "ms": 1}]}
        row.status, row.kind, row.reason = InboundStatus.REVIEW, "fax_order", f"fax order {found.id} needs review"
        row.object_type, row.object_id, row.received_at = "fax_order", found.id, received_at
        return found.id


def invited(web: WebApp) -> Invitation:
    with web.runtime.db.transaction() as session:
        return invitation.create(session, web.runtime.settings, {
            "issuer": {"company": "鳥居商事", "name": "佐藤", "email": "sato@torii-shoji.example"},
            "partner": {"company": "山田青果", "name": "山田", "email": PARTNER}})


def unclear_reply(web: WebApp, inv: Invitation, *, name: str = "山田", subject: str = "Re: ご招待",
                  body: str = "ご連絡ありがとうございます。\n社内の者に回します。\n") -> int:
    """A reply to the invitation that says no answer, run through the inbound pipeline: it goes to review."""
    message = EmailMessage()
    message["From"] = Address(display_name=name, addr_spec=PARTNER)
    message["To"] = f"reply+{inv.reply_token}@{web.runtime.settings.mail_domain}"
    message["Subject"] = subject
    message.set_content(body + "\n2026年11月20日 10:00 佐藤 <sato@torii-shoji.example>:\n"
                        "> 承認 / 非承認 / 保留 のいずれかをご返信ください。\n> よろしくお願いいたします。\n")
    stored = intake.store(web.runtime.db, message.as_bytes(), channel="smtp", mail_from=PARTNER,
                          rcpt_tos=[str(message["To"])])
    inbound.process(web.runtime.db, web.runtime.settings, stored.id)
    with web.runtime.db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None and row.status == InboundStatus.REVIEW, (row.status if row else None,
                                                                        row.reason if row else None)
        return row.id


def _positions(html: str, *needles: str) -> list[int]:
    found = [html.find(needle) for needle in needles]
    assert all(p >= 0 for p in found), [n for n, p in zip(needles, found, strict=True) if p < 0]
    return found


def _message(web: WebApp, inbound_id: int) -> InboundMessage:
    with web.runtime.db.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        return row


def test_the_queue_lists_messages_and_fax_orders_in_review_oldest_first_with_counts(web: WebApp) -> None:
    buyer, supplier, _ = shop(web, "まるよし", "+81355550101")
    now = clock.now()
    newer = fax_order_in_review(web, buyer, supplier, [("キャベツ", "3")], received_at=now, tag="a")
    older = fax_order_in_review(web, buyer, supplier, [("大葉", "5")], received_at=now - timedelta(hours=2),
                                tag="b")
    inv = invited(web)
    first = unclear_reply(web, inv, subject="Re: ご招待 (1)")
    second = unclear_reply(web, inv, subject="Re: ご招待 (2)", body="もう少しお時間をください?\n")
    with web.runtime.db.transaction() as session:  # the second reply came first
        row = session.get(InboundMessage, second)
        assert row is not None
        row.received_at = now - timedelta(days=1)
    web.operator("sato")

    page = web.login("sato").get("/review")

    assert page.status_code == 200
    html = page.text
    assert re.search(r'id="count-messages">2<', html) and re.search(r'id="count-fax-orders">2<', html)
    # Oldest first in each list; each row links to its screen.
    a, b = _positions(html, f'href="/messages/{second}"', f'href="/messages/{first}"')
    assert a < b
    a, b = _positions(html, f'href="/fax-orders/{older}"', f'href="/fax-orders/{newer}"')
    assert a < b
    # The message a fax order came in is reviewed on the fax order's screen: it is not a second entry.
    assert html.count('data-message="') == 2
    assert f'href="/invitations/{inv.id}"' in html


def test_the_queue_pages(web: WebApp) -> None:
    buyer, supplier, _ = shop(web, "まるよし", "+81355550101")
    now = clock.now()
    ids = [fax_order_in_review(web, buyer, supplier, [("キャベツ", "1")], received_at=now + timedelta(minutes=i),
                               tag=str(i)) for i in range(52)]
    web.operator("sato")
    client = web.login("sato")

    first, second = client.get("/review").text, client.get("/review?fax_page=2").text

    assert f'href="/fax-orders/{ids[0]}"' in first and f'href="/fax-orders/{ids[50]}"' not in first
    assert f'href="/fax-orders/{ids[50]}"' in second and f'href="/fax-orders/{ids[0]}"' not in second
    assert 'href="/review?fax_page=2&amp;page=1"' in first and "2 / 2" in second


def test_another_buyers_operator_gets_404_and_an_empty_queue(web: WebApp) -> None:
    buyer, supplier, _ = shop(web, "まるよし", "+81355550101")
    other, _, _ = shop(web, "はなまる", "+81355550202")
    fax_order_id = fax_order_in_review(web, buyer, supplier, [("キャベツ", "3")], received_at=clock.now(), tag="x")
    with web.runtime.db.sessions() as session:
        found = session.get(FaxOrder, fax_order_id)
        assert found is not None
        inbound_id = found.inbound_id
    web.operator("tanaka", "operator", buyer_id=other)
    web.operator("sato", "operator", buyer_id=buyer)
    tanaka, sato = web.login("tanaka"), web.login("sato")

    assert tanaka.get(f"/fax-orders/{fax_order_id}").status_code == 404
    assert tanaka.get(f"/messages/{inbound_id}").status_code == 404
    queue = tanaka.get("/review").text
    assert f"FAX-{fax_order_id}" not in queue and re.search(r'id="count-fax-orders">0<', queue)
    # The buyer's own operator sees it, and the message it came in.
    assert sato.get(f"/fax-orders/{fax_order_id}").status_code == 200
    assert f"FAX-{fax_order_id}" in sato.get("/review").text
    assert f'href="/fax-orders/{fax_order_id}"' in sato.get(f"/messages/{inbound_id}").text


def test_a_viewer_sees_the_fax_order_without_buttons_an_operator_with(web: WebApp) -> None:
    buyer, supplier, products = shop(web, "まるよし", "+81355550101")
    fax_order_id = fax_order_in_review(web, buyer, supplier, [("ｷｬﾍﾞﾂ", "3"), ("ﾀﾏｺﾞ", "2")],
                                       received_at=clock.now(), tag="v")
    web.operator("mori", "viewer")
    web.operator("sato", "operator")

    viewer = web.login("mori").get(f"/fax-orders/{fax_order_id}").text
    operator = web.login("sato").get(f"/fax-orders/{fax_order_id}").text

    assert 'id="accept-button"' not in viewer and 'id="discard-button"' not in viewer
    assert 'id="accept-button"' in operator and 'id="discard-button"' in operator and 'id="result"' in operator
    # Every field editable: the date, the note, each line's product and quantity; the page beside them.
    assert re.search(r'<input type="date" name="delivery_date" value="">', operator)
    assert 'name="note"' in operator and 'value="午前中に"' in operator
    assert operator.count('<tr data-position="') == 2 and operator.count('name="product"') == 2
    assert operator.count('name="quantity"') == 2
    assert f'<option value="{products["鶏卵 Mサイズ"]}">鶏卵 Mサイズ (パック)</option>' in operator
    assert 'class="split"' in operator and f'src="/api/fax-orders/{fax_order_id}/pages/1"' in operator
    assert 'class="box unsure"' in operator and "unsure-text" in operator
    assert "(0.30: no date in 来週火曜)" in operator  # each field's confidence beside it
    # No inline script: the behaviour is review.js's.
    assert re.search(r"<script>", operator) is None and 'src="/static/review.js"' in operator


def test_after_accepting_the_page_shows_the_order(web: WebApp) -> None:
    buyer, supplier, products = shop(web, "まるよし", "+81355550101")
    fax_order_id = fax_order_in_review(web, buyer, supplier, [("ｷｬﾍﾞﾂ", "3")], received_at=clock.now(), tag="o")
    web.operator("sato")
    client = web.login("sato")
    soon = (clock.today() + timedelta(days=3)).isoformat()

    accepted = client.post(f"/api/fax-orders/{fax_order_id}/accept", json={
        "lines": [{"position": 1, "item": "ｷｬﾍﾞﾂ", "product_id": products["キャベツ"], "quantity": "4"}],
        "delivery_date": soon, "note": "午前中に"})

    assert accepted.status_code == 200, accepted.text
    order: dict[str, Any] = accepted.json()["order"]
    page = client.get(f"/fax-orders/{fax_order_id}").text
    assert f'id="order-link" href="/orders/{order["id"]}"' in page and order["number"] in page
    assert 'id="accept-button"' not in page


def test_the_message_screen_greys_the_quote_and_offers_the_invitations_answers(web: WebApp) -> None:
    inbound_id = unclear_reply(web, invited(web))
    web.operator("sato")
    web.operator("mori", "viewer")

    page = web.login("sato").get(f"/messages/{inbound_id}")
    viewer = web.login("mori").get(f"/messages/{inbound_id}").text

    assert page.status_code == 200
    html = page.text
    new = re.search(r'<span class="new">(.*?)</span>', html, re.S)
    quoted = re.search(r'<span class="quoted">(.*?)</span>', html, re.S)
    assert new and "社内の者に回します。" in new.group(1) and "&gt; 承認" not in new.group(1)
    assert quoted and "&gt; 承認 / 非承認 / 保留" in quoted.group(1) and "佐藤 &lt;sato@" in quoted.group(1)
    assert "answer unclear" in html  # why it is in review, and what the reader made of it
    for intent in ("approve", "reject", "hold"):
        assert f'data-intent="{intent}"' in html and f'data-intent="{intent}"' not in viewer
    assert 'name="contact_person"' in html and 'name="contact_person"' not in viewer
    assert 'data-resolve="/api/messages/' in html and 'src="/static/review.js"' in html
    assert "not an answer" not in html  # resolve has no such intent (see the report)


def test_resolving_from_the_console_needs_the_csrf_token(web: WebApp) -> None:
    inv = invited(web)
    inbound_id = unclear_reply(web, inv)
    web.operator("sato")
    client = web.login("sato")
    token = client.headers.pop("X-CSRF-Token")

    refused = client.post(f"/api/messages/{inbound_id}/resolve", json={"intent": "approve"})

    assert refused.status_code == 403
    assert _message(web, inbound_id).status == InboundStatus.REVIEW
    client.headers["X-CSRF-Token"] = token
    resolved = client.post(f"/api/messages/{inbound_id}/resolve",
                           json={"intent": "approve", "contact_person": "鈴木"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    with web.runtime.db.sessions() as session:
        found = session.get(Invitation, inv.id)
        assert found is not None and (found.state, found.contact_person) == ("approved", "鈴木")
    # Decided: the screen offers nothing more.
    assert 'data-intent="' not in client.get(f"/messages/{inbound_id}").text


def test_not_an_answer_takes_the_message_out_of_review_and_changes_nothing(web: WebApp) -> None:
    inv = invited(web)
    inbound_id = unclear_reply(web, inv)
    web.operator("sato")
    web.operator("mori", "viewer")
    client = web.login("sato")
    assert 'id="not-an-answer"' in client.get(f"/messages/{inbound_id}").text
    assert 'id="not-an-answer"' not in web.login("mori").get(f"/messages/{inbound_id}").text

    dismissed = client.post(f"/api/messages/{inbound_id}/dismiss", json={"reason": "挨拶のみ"})

    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "ignored" and "挨拶のみ" in dismissed.json()["reason"]
    with web.runtime.db.sessions() as session:
        found = session.get(Invitation, inv.id)
        assert found is not None and found.state == inv.state
        events = session.scalars(select(Event).where(Event.object_type == "invitation",
                                                     Event.object_id == inv.id)).all()
    assert any(e.summary == "not an answer: 挨拶のみ" and e.actor == "operator:sato" for e in events)
    assert f"/messages/{inbound_id}" not in client.get("/review").text
    again = client.post(f"/api/messages/{inbound_id}/dismiss", json={})
    assert again.status_code == 422


def test_what_a_partner_wrote_is_escaped_everywhere(web: WebApp) -> None:
    inbound_id = unclear_reply(web, invited(web), name=f"{XSS} 山田", subject=f"Re: {XSS}",
                               body=f"ご連絡ありがとうございます。\n{XSS}\n")
    buyer, supplier, _ = shop(web, "まるよし", "+81355550101")
    fax_order_id = fax_order_in_review(web, buyer, supplier, [(XSS, "3")], received_at=clock.now(), tag="s")
    web.operator("sato")
    client = web.login("sato")

    message = client.get(f"/messages/{inbound_id}").text
    fax = client.get(f"/fax-orders/{fax_order_id}").text
    queue = client.get("/review").text

    for html in (message, fax, queue):
        assert XSS not in html
    subject = re.search(r'<td id="subject">(.*?)</td>', message, re.S)
    sender = re.search(r'<td id="from">(.*?)</td>', message, re.S)
    text = re.search(r'<pre class="mail" id="mail-text">(.*?)</pre>', message, re.S)
    assert subject and ESCAPED in subject.group(1)
    assert sender and ESCAPED in sender.group(1)
    assert text and ESCAPED in text.group(1)
    assert f"Re: {ESCAPED}" in queue
    line = re.search(r'<tr data-position="1" data-item="([^"]*)">(.*?)</tr>', fax, re.S)
    assert line and ESCAPED in line.group(1) and ESCAPED in line.group(2)


def test_mail_parts_marks_what_the_answer_left_out() -> None:
    text = "承認します。\n\n担当は鈴木です。\n\n-----Original Message-----\nFrom: 佐藤\n承認 / 非承認\n"
    parts = mail_parts(text, "承認します。\n\n担当は鈴木です。")
    assert [(p.quoted, p.text.strip()) for p in parts] == [
        (False, "承認します。\n\n担当は鈴木です。"),
        (True, "-----Original Message-----\nFrom: 佐藤\n承認 / 非承認")]
    assert all(p.quoted for p in mail_parts("> 承認\n", ""))


def test_a_message_that_killed_its_workers_waits_in_the_queue_and_can_be_dismissed(web: WebApp) -> None:
    message = EmailMessage()
    message["From"] = PARTNER
    message["To"] = f"someone@{web.runtime.settings.mail_domain}"
    message["Subject"] = "fails every time"
    message.set_content("本文")
    inbound_id = intake.store(web.runtime.db, message.as_bytes(), channel="smtp", mail_from=PARTNER,
                              rcpt_tos=[str(message["To"])]).id
    for _ in range(web.runtime.settings.inbound_max_attempts):  # each worker died in the middle of it
        attempts.claim(web.runtime.db, web.runtime.settings, inbound_id)
    outcome = inbound.process(web.runtime.db, web.runtime.settings, inbound_id)
    assert outcome is not None and outcome.status == InboundStatus.FAILED
    web.operator("sato")
    client = web.login("sato")

    assert f"/messages/{inbound_id}" in client.get("/review").text
    assert f"/messages/{inbound_id}" in client.get("/").text
    assert inbound_id in [row["id"] for row in web.api("read").get("/api/review").json()]
    assert "Subject: fails every time" in web.api("read").get(f"/api/messages/{inbound_id}").json()["headers"]
    assert 'id="not-an-answer"' in client.get(f"/messages/{inbound_id}").text
    dismissed = client.post(f"/api/messages/{inbound_id}/dismiss", json={"reason": "壊れたメール"})
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "ignored"
    assert f"/messages/{inbound_id}" not in client.get("/review").text
