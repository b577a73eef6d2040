"""The console's lists and object screens: filters, pages, what a confined operator sees, the outbox viewer."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from webapp import TestClient, WebApp
from workflows import invitation
from workflows import order as orders
from workflows.models import FaxJob, Invitation, Order, OrderLine, OutboundMessage

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
PREVIOUS = re.compile(r'<a rel="prev" href="([^"]+)"')


def ids(page: str, path: str) -> list[int]:
    """The objects a list links to, in its order (each row links its object once or more)."""
    return list(dict.fromkeys(int(n) for n in re.findall(rf'href="/{path}/(\d+)"', page)))


def add_invitation(web: WebApp, at: datetime, **fields: Any) -> int:
    values = {"issuer_company": "株式会社トリイ", "issuer_name": "発行 太郎", "issuer_email": "issuer@torii.example",
              "partner_company": "山田商店", "partner_name": "山田 花子", "partner_email": "hanako@yamada.example",
              "state": "sent"} | fields
    with web.runtime.db.transaction() as session:
        row = Invitation(created_at=at, updated_at=at, reply_token=invitation.new_reply_token(), **values)
        session.add(row)
        session.flush()
        return row.id


def listed(client: TestClient, path: str, **params: str) -> list[int]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return ids(response.text, path.strip("/"))


# --- building orders through the API ---------------------------------------------------------------

def buyer_with_supplier(api: TestClient, channel: str = "mail") -> tuple[int, int]:
    tag = uuid.uuid4().hex[:6]
    buyer = api.post("/api/buyers", json={
        "name": f"レストラン花子 {tag}", "email": f"orders-{tag}@hanako.example",
        "delivery_addresses": [{"name": "本店", "postal_code": "150-0001", "address": "東京都渋谷区神宮前1-2-3"}]})
    assert buyer.status_code == 201, buyer.text
    body: dict[str, Any] = {"name": f"八百屋山田 {tag}", "channel": channel}
    body |= {"fax": "03-1234-5678"} if channel == "fax" else {"email": f"yamada-{tag}@yaoya.example"}
    supplier = api.post(f"/api/buyers/{buyer.json()['id']}/suppliers", json=body)
    assert supplier.status_code == 201, supplier.text
    for name, unit, price in (("トマト", "ケース", 3200), ("キャベツ", "個", 180)):
        assert api.put(f"/api/suppliers/{supplier.json()['id']}/products",
                       json={"name": name, "unit": unit, "unit_price": price}).status_code in (200, 201)
    return buyer.json()["id"], supplier.json()["id"]


def place(api: TestClient, buyer_id: int, supplier_id: int) -> dict[str, Any]:
    response = api.post("/api/orders", json={
        "buyer_id": buyer_id, "supplier_id": supplier_id, "orderer_name": "佐藤",
        "lines": [{"product_name": "トマト", "quantity": "5"}, {"product_name": "キャベツ", "quantity": "10"}]})
    assert response.status_code == 201, response.text
    return dict(response.json())


def fire(web: WebApp, order_id: int, trigger: str, **kwargs: Any) -> None:
    """What the supplier's answer does, as Torii itself (no actor)."""
    with web.runtime.db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        orders.fire(session, web.runtime.settings, found, trigger, **kwargs)


def outbound_ids(web: WebApp, order_id: int) -> list[int]:
    with web.runtime.db.sessions() as session:
        return list(session.scalars(select(OutboundMessage.id).where(
            OutboundMessage.object_type == "order", OutboundMessage.object_id == order_id)
            .order_by(OutboundMessage.id)))


# --- invitations -----------------------------------------------------------------------------------

def test_invitations_filter_by_tokyo_days_state_and_keyword(web: WebApp) -> None:
    web.operator("sato")
    client = web.login("sato")
    # 2026-03-01 23:59 JST, 03-02 00:00 JST, 03-02 23:59:59 JST, 03-03 00:00 JST
    late_first = add_invitation(web, datetime(2026, 3, 1, 14, 59, tzinfo=UTC))
    early_second = add_invitation(web, datetime(2026, 3, 1, 15, 0, tzinfo=UTC), state="held",
                                  partner_email="Tanaka@Example.JP")
    late_second = add_invitation(web, datetime(2026, 3, 2, 14, 59, 59, tzinfo=UTC), partner_company="100%青果",
                                 issuer_company="Global Foods K.K.")
    third = add_invitation(web, datetime(2026, 3, 2, 15, 0, tzinfo=UTC), state="held", partner_name="鈴木 一郎")

    assert listed(client, "/invitations") == [third, late_second, early_second, late_first]
    assert listed(client, "/invitations", **{"from": "2026-03-02", "to": "2026-03-02"}) == [late_second, early_second]
    assert listed(client, "/invitations", **{"from": "2026-03-03"}) == [third]
    assert listed(client, "/invitations", to="2026-03-01") == [late_first]
    assert listed(client, "/invitations", **{"from": "2026/03/02", "to": ""}) == [third, late_second, early_second]
    assert listed(client, "/invitations", state="held") == [third, early_second]
    assert listed(client, "/invitations", state="held", to="2026-03-02") == [early_second]
    # Keyword: partner company, name and email, issuer company; case-insensitive; % is a character.
    assert listed(client, "/invitations", q="tanaka@example.jp") == [early_second]
    assert listed(client, "/invitations", q="鈴木") == [third]
    assert listed(client, "/invitations", q="global foods") == [late_second]
    assert listed(client, "/invitations", q="100%") == [late_second]
    assert listed(client, "/invitations", q="_") == []
    # Blank and unreadable filters filter nothing (a blank form sends them); a bad date is said so.
    assert len(listed(client, "/invitations", **{"from": "", "to": "", "state": "", "q": ""})) == 4
    answer = client.get("/invitations", params={"from": "yesterday", "state": "nonsense"})
    assert ids(answer.text, "invitations") == [third, late_second, early_second, late_first]
    assert "Not a date (ignored): yesterday" in answer.text
    # The form shows the filters it applied.
    page = client.get("/invitations", params={"from": "2026-03-02", "state": "held", "q": "鈴木"}).text
    assert 'name="from" value="2026-03-02"' in page and 'value="held" selected' in page and 'value="鈴木"' in page


def test_sixty_rows_make_two_pages_and_the_pager_keeps_the_filters(web: WebApp) -> None:
    web.operator("sato")
    client = web.login("sato")
    made = [add_invitation(web, datetime(2026, 4, 1, 3, n, tzinfo=UTC), partner_company=f"頁テスト {n}")
            for n in range(60)]
    others = [add_invitation(web, datetime(2026, 4, 1, 4, n, tzinfo=UTC)) for n in range(3)]

    first = client.get("/invitations", params={"q": "頁テスト", "state": "sent"})
    assert ids(first.text, "invitations") == made[::-1][:50]
    assert "1 / 2" in first.text and "全 60 件" in first.text and not PREVIOUS.search(first.text)
    link = NEXT.search(first.text)
    assert link
    target = html.unescape(link.group(1))
    assert "page=2" in target and "state=sent" in target and "q=" in target
    second = client.get("/invitations" + target)
    assert ids(second.text, "invitations") == made[::-1][50:]
    assert not NEXT.search(second.text)
    back = PREVIOUS.search(second.text)
    assert back and ids(client.get("/invitations" + html.unescape(back.group(1))).text,
                        "invitations") == made[::-1][:50]
    # Unfiltered, the others come first; a page past the end is empty, not an error.
    assert ids(client.get("/invitations").text, "invitations")[:3] == others[::-1]
    assert ids(client.get("/invitations", params={"page": "9"}).text, "invitations") == []
    assert client.get("/invitations", params={"page": "x"}).status_code == 200


# --- orders ----------------------------------------------------------------------------------------

def test_orders_with_undelivered_items_are_those_still_missing_something(web: WebApp) -> None:
    api = web.api("admin")
    buyer_id, supplier_id = buyer_with_supplier(api)
    placed = place(api, buyer_id, supplier_id)["id"]
    confirmed = place(api, buyer_id, supplier_id)["id"]
    fire(web, confirmed, "confirm")
    complete = place(api, buyer_id, supplier_id)["id"]
    fire(web, complete, "confirm")
    fire(web, complete, "ship")
    assert api.post(f"/api/orders/{complete}/inspection", json={"lines": [
        {"position": 1}, {"position": 2}]}).json()["state"] == "delivered"
    short = place(api, buyer_id, supplier_id)["id"]
    fire(web, short, "confirm")
    fire(web, short, "ship")
    assert api.post(f"/api/orders/{short}/inspection", json={"lines": [
        {"position": 1, "delivered_quantity": "4.5"}, {"position": 2}]}).json()["state"] == "delivered"
    # Partly confirmed: line 2 will not come at all, line 1 (3 of 5) has come in full.
    partial = place(api, buyer_id, supplier_id)["id"]
    fire(web, partial, "partial", quantities={1: Decimal(3), 2: Decimal(0)})
    fire(web, partial, "ship")
    assert api.post(f"/api/orders/{partial}/inspection", json={"lines": [
        {"position": 1, "delivered_quantity": "3"}]}).json()["state"] == "delivered"
    declined = place(api, buyer_id, supplier_id)["id"]
    fire(web, declined, "decline")

    web.operator("sato")
    client = web.login("sato")
    assert listed(client, "/orders") == [declined, partial, short, complete, confirmed, placed]
    page = client.get("/orders", params={"undelivered": "1"}).text
    assert ids(page, "orders") == [short, confirmed]
    assert [o["id"] for o in api.get("/api/orders", params={"undelivered": "true"}).json()] == [short, confirmed]
    assert "No. 1, 2" in page and "No. 1<" in page  # confirmed: both lines; short: line 1
    assert listed(client, "/orders", undelivered="1", state="confirmed") == [confirmed]
    assert listed(client, "/orders", state="declined") == [declined]
    number = api.get(f"/api/orders/{short}").json()["number"]
    assert listed(client, "/orders", q=number.lower()) == [short]
    assert listed(client, "/orders", q="八百屋山田") == [declined, partial, short, complete, confirmed, placed]
    assert listed(client, "/orders", flagged="1") == []
    with web.runtime.db.transaction() as session:
        found = session.get(Order, placed)
        assert found is not None
        found.flag = "no answer within 48 hours"
    assert listed(client, "/orders", flagged="1") == [placed]
    overview = client.get("/").text
    assert 'href="/orders?undelivered=1">未納品がある / With undelivered items <strong>2</strong>' in overview


def test_an_order_shows_its_lines_documents_inspection_and_who_shipped_it(web: WebApp) -> None:
    api = web.api("admin")
    buyer_id, supplier_id = buyer_with_supplier(api)
    order = place(api, buyer_id, supplier_id)
    fire(web, order["id"], "confirm")
    web.operator("sato")
    client = web.login("sato")
    # The console's fetch: the session's cookie and its CSRF header.
    shipped = client.post(f"/api/orders/{order['id']}/ship")
    assert shipped.status_code == 200, shipped.text
    assert client.post(f"/api/orders/{order['id']}/inspection", json={"lines": [
        {"position": 1, "delivered_quantity": "4"}]}).status_code == 200

    page = client.get(f"/orders/{order['id']}")
    assert page.status_code == 200
    text = page.text
    assert order["number"] in text and "トマト" in text and "キャベツ" in text
    assert "16,000" in text and "1,800" in text and "17,800" in text  # subtotals and the total
    assert f'href="/api/orders/{order["id"]}/documents/order_sheet"' in text
    assert f'href="/api/orders/{order["id"]}/documents/delivery_note"' in text
    assert "4 / 5" in text and "未納 / undelivered" in text  # line 1: 4 of 5 arrived
    for kind in ("order_sheet", "delivery_note"):
        document = client.get(f"/api/orders/{order['id']}/documents/{kind}")
        assert document.status_code == 200 and document.content.startswith(b"%PDF")

    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td>", text)
    who = {summary: actor for actor, summary in rows}
    assert who["ship: confirmed → shipped"] == "operator:sato"
    assert who["confirm: placed → confirmed"] == "Torii"
    assert any(actor.startswith("token:") for actor, summary in rows if summary.startswith("order PO-"))
    assert "誰 / Who" in text


def test_a_buyer_scoped_operator_sees_only_its_buyers_objects(web: WebApp) -> None:
    api = web.api("admin")
    mine_buyer, mine_supplier = buyer_with_supplier(api)
    other_buyer, other_supplier = buyer_with_supplier(api)
    mine = place(api, mine_buyer, mine_supplier)["id"]
    other = place(api, other_buyer, other_supplier)["id"]
    inv = api.post("/api/invitations", json={
        "issuer": {"company": "株式会社トリイ", "name": "発行 太郎", "email": "issuer@torii.example"},
        "partner": {"company": "山田商店", "name": "山田 花子", "email": "hanako@yamada.example"}}).json()["id"]
    web.operator("yamada", "viewer", buyer_id=mine_buyer)
    client = web.login("yamada")

    assert listed(client, "/orders") == [mine]
    assert client.get(f"/orders/{mine}").status_code == 200
    assert client.get(f"/orders/{other}").status_code == 404
    assert client.get("/orders/999").status_code == 404
    assert listed(client, "/invitations") == []
    assert client.get(f"/invitations/{inv}").status_code == 404
    mail, = outbound_ids(web, mine)
    other_mail, = outbound_ids(web, other)
    assert ids(client.get("/outbox").text, "outbox") == [mail]
    assert client.get(f"/outbox/{mail}").status_code == 200
    for path in (f"/outbox/{other_mail}", f"/outbox/{other_mail}/html", f"/outbox/{other_mail}/parts/1"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "見つかりません / Not found" in answer.text
    overview = client.get("/").text
    assert f'href="/orders/{mine}"' in overview and f'href="/orders/{other}"' not in overview


# --- outbox ----------------------------------------------------------------------------------------

def test_the_outbox_viewer_shows_a_mail_its_html_sandboxed_and_its_attachments(web: WebApp) -> None:
    api = web.api("admin")
    buyer_id, supplier_id = buyer_with_supplier(api)
    order = place(api, buyer_id, supplier_id)
    web.operator("sato", "viewer")
    client = web.login("sato")
    mail, = outbound_ids(web, order["id"])
    with web.runtime.db.sessions() as session:
        row = session.get(OutboundMessage, mail)
        assert row is not None
        subject, text, to = row.subject, row.text, row.to_addr

    page = client.get(f"/outbox/{mail}")
    assert page.status_code == 200
    body = re.search(r'<pre class="mail">(.*?)</pre>', page.text, re.S)
    assert body and html.unescape(body.group(1)).strip() == text.strip()
    assert order["number"] in body.group(1)
    assert html.escape(subject, quote=False) in page.text and to in page.text
    assert f'<iframe sandbox src="/outbox/{mail}/html"' in page.text

    framed = client.get(f"/outbox/{mail}/html")
    assert framed.status_code == 200 and framed.headers["content-type"].startswith("text/html")
    policy = framed.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "img-src data:" in policy
    assert "script" not in policy
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert order["number"] in framed.text and "<html" in framed.text.lower()

    attachment = re.search(rf'href="/outbox/{mail}/parts/(\d+)">([^<]+)</a></td><td>application/pdf', page.text)
    assert attachment, page.text
    part = client.get(f"/outbox/{mail}/parts/{attachment.group(1)}")
    assert part.status_code == 200 and part.headers["content-type"] == "application/pdf"
    assert part.content.startswith(b"%PDF") and attachment.group(2) in part.headers["content-disposition"]
    assert client.get(f"/outbox/{mail}/parts/0").status_code == 404  # the multipart container itself
    assert client.get(f"/outbox/{mail}/parts/99").status_code == 404

    listing = client.get("/outbox", params={"channel": "mail", "status": "queued"}).text
    assert ids(listing, "outbox") == [mail]
    assert ids(client.get("/outbox", params={"status": "sent"}).text, "outbox") == []


def test_fax_jobs_are_in_the_outbox_with_their_document(web: WebApp) -> None:
    api = web.api("admin")
    buyer_id, supplier_id = buyer_with_supplier(api, "fax")
    mail_buyer, mail_supplier = buyer_with_supplier(api)
    order = place(api, buyer_id, supplier_id)
    mailed = place(api, mail_buyer, mail_supplier)
    with web.runtime.db.sessions() as session:
        job = session.scalars(select(FaxJob).where(FaxJob.object_id == order["id"])).one()
        job_id, title = job.id, job.title
    web.operator("sato", "viewer")
    client = web.login("sato")

    everything = client.get("/outbox").text
    assert f'href="/outbox/fax/{job_id}/document"' in everything and title in everything
    assert ids(everything, "outbox") == outbound_ids(web, mailed["id"])
    faxes = client.get("/outbox", params={"channel": "fax"}).text
    assert f'href="/outbox/fax/{job_id}/document"' in faxes and ids(faxes, "outbox") == []
    assert f"/outbox/fax/{job_id}/document" not in client.get("/outbox", params={"channel": "mail"}).text
    document = client.get(f"/outbox/fax/{job_id}/document")
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")
    assert f'href="/outbox/fax/{job_id}/document"' in client.get(f"/orders/{order['id']}").text  # the timeline


def test_mail_and_faxes_share_one_list_newest_first_across_pages(web: WebApp) -> None:
    web.operator("sato", "viewer")
    client = web.login("sato")
    keys = []
    with web.runtime.db.transaction() as session:
        for n in range(55):
            at = datetime(2026, 5, 1, 0, n, tzinfo=UTC)
            if n % 2:
                session.add(FaxJob(created_at=at, object_type="order", object_id=1, kind="order_sheet",
                                   number="+81312345678", title=f"fax {n}", pdf=b"%PDF-1.4"))
            else:
                session.add(OutboundMessage(created_at=at, object_type="order", object_id=1, kind="order_sheet",
                                            envelope_from="b@torii.test", to_addr="s@example.jp",
                                            subject=f"mail {n}", message_id=f"{n}@torii.test", text="", raw=b""))
            keys.append(f"{'fax' if n % 2 else 'mail'} {n}")
    first = client.get("/outbox").text
    link = NEXT.search(first)
    assert link
    second = client.get("/outbox" + html.unescape(link.group(1))).text
    shown = re.findall(r">((?:mail|fax) \d+)</a>", first) + re.findall(r">((?:mail|fax) \d+)</a>", second)
    assert shown == keys[::-1]


def test_what_partners_write_is_shown_as_text(web: WebApp) -> None:
    api = web.api("admin")
    created = api.post("/api/invitations", json={
        "issuer": {"company": "<script>alert('issuer')</script>", "name": "発行 太郎", "email": "issuer@torii.example"},
        "partner": {"company": "山田商店", "name": "<script>alert('partner')</script>",
                    "email": "hanako@yamada.example"}})
    assert created.status_code == 201, created.text
    inv = created.json()["id"]
    with web.runtime.db.transaction() as session:
        mime = EmailMessage()
        mime["Subject"] = "<script>alert('subject')</script>"
        mime.set_content("本文")
        mime.add_alternative("<p>hi</p><script>alert('html')</script>", subtype="html")
        row = OutboundMessage(object_type="invitation", object_id=inv, kind="already_approved",
                              envelope_from="b@torii.test", to_addr="hanako@yamada.example",
                              subject="<script>alert('subject')</script>", message_id="xss@torii.test",
                              text="本文", raw=mime.as_bytes())
        session.add(row)
        session.flush()
        raw_id = row.id
    web.operator("sato", "viewer")
    client = web.login("sato")

    for path in ("/invitations", f"/invitations/{inv}", "/outbox", f"/outbox/{raw_id}", "/"):
        page = client.get(path).text
        assert "<script>alert" not in page, path
    assert "&lt;script&gt;alert(&#39;partner&#39;)&lt;/script&gt;" in client.get("/invitations").text
    outbox = client.get("/outbox").text
    assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;" in outbox
    assert "&lt;script&gt;alert(&#39;issuer&#39;)&lt;/script&gt;" in outbox  # in the invitation mail's subject
    # The HTML part is answered as it is, but in a sandbox that runs no script.
    framed = client.get(f"/outbox/{raw_id}/html")
    assert "<script>alert('html')</script>" in framed.text
    assert framed.headers["content-security-policy"].startswith("sandbox;")


def test_the_overview_counts_per_state_and_links_to_the_lists(web: WebApp) -> None:
    for n in range(7):
        add_invitation(web, datetime(2026, 6, 1, 0, n, tzinfo=UTC), state="held" if n < 2 else "sent")
    web.operator("sato", "viewer")
    client = web.login("sato")
    page = client.get("/").text
    assert '<a href="/invitations?state=sent"><span class="state sent">sent</span> <strong>5</strong></a>' in page
    assert '<a href="/invitations?state=held"><span class="state held">held</span> <strong>2</strong></a>' in page
    assert len(ids(page, "invitations")) == 5  # the latest few; the list has the rest
    assert 'href="/invitations">すべて見る' in page
    for path in ("/invitations", "/orders", "/fax-orders", "/outbox"):
        assert client.get(path).status_code == 200, path
    assert "該当するFAX注文はありません" in client.get("/fax-orders", params={"state": "needs_review"}).text


def test_order_lines_match_the_domain_rule_for_undelivered(web: WebApp) -> None:
    """The list's SQL and ``orders.undelivered_lines`` agree, quantities compared as numbers, not text."""
    api = web.api("admin")
    buyer_id, supplier_id = buyer_with_supplier(api)
    order_id = place(api, buyer_id, supplier_id)["id"]
    fire(web, order_id, "confirm")
    web.operator("sato", "viewer")
    client = web.login("sato")
    with web.runtime.db.transaction() as session:
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                .order_by(OrderLine.position)).all()
        for line in lines:  # 10 ordered, 9 arrived: "9" > "10" as text
            line.quantity, line.confirmed_quantity = Decimal(10), Decimal(10)
            line.delivered_quantity, line.inspected_at = Decimal(9), datetime(2026, 1, 1, tzinfo=UTC)
        assert orders.undelivered_lines(lines)
    assert listed(client, "/orders", undelivered="1") == [order_id]
    with web.runtime.db.transaction() as session:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)):
            line.delivered_quantity = Decimal("10.0")
    assert listed(client, "/orders", undelivered="1") == []
