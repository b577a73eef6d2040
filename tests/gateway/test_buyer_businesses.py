"""A buyer's businesses and users on its orders (manual 004): confirmations go to the business that ordered,
and an order's documents keep the names they were issued with after the user, the business or the buyer
are renamed."""

from __future__ import annotations

import io
from typing import Any

import pdfplumber
from fastapi.testclient import TestClient
from sqlalchemy import select

from webapp import WebApp
from workflows import order as orders
from workflows import users
from workflows.models import Business, Buyer, Order, OutboundMessage

PASSWORD = "a long enough secret"


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as doc:
        return "".join((page.extract_text() or "") for page in doc.pages).replace(" ", "")


def group_with_two_businesses(admin: TestClient) -> dict[str, Any]:
    buyer = admin.post("/api/buyers", json={"name": "山田フーズ", "email": "hq@yamada.example", "delivery_addresses": [
        {"name": "本店", "postal_code": "111-0032", "address": "東京都台東区浅草1-2-3"}]}).json()
    for name, address in (("渋谷店", "shibuya@yamada.example"), ("新宿店", "shinjuku@yamada.example")):
        made = admin.post(f"/api/buyers/{buyer['id']}/businesses", json={"name": name, "email": address,
                                                                          "phone": "03-1111-0000"})
        assert made.status_code == 201, made.text
    again = admin.post(f"/api/buyers/{buyer['id']}/businesses", json={"name": "渋谷店", "email": "x@y.example"})
    assert again.status_code == 422
    supplier = admin.post(f"/api/buyers/{buyer['id']}/suppliers", json={
        "name": "八百新青果", "channel": "mail", "email": "yaoshin@yasai.example"}).json()
    admin.put(f"/api/suppliers/{supplier['id']}/products", json={"name": "玉ねぎ", "unit": "kg", "unit_price": 380})
    detail = admin.get(f"/api/buyers/{buyer['id']}").json()
    assert [b["name"] for b in detail["businesses"]] == ["渋谷店", "新宿店"]
    return detail | {"supplier": supplier}


def joined_user(web: WebApp, buyer_id: int, address: str, name: str) -> TestClient:
    """A user of the buyer, invited and joined the way the mails lead (the links' own tests are elsewhere)."""
    with web.runtime.db.transaction() as session:
        buyer = session.get(Buyer, buyer_id)
        assert buyer is not None
        user = users.invite(session, web.runtime.settings, buyer, {"email": address, "role": "operator"})
        _, url = users.links.issue(session, web.runtime.settings, user, users.LinkPurpose.INVITE)
        users.accept(session, url.rsplit("/", 1)[1], name, PASSWORD)
    return web.login(address, PASSWORD)


def test_orders_say_which_business_ordered_and_its_confirmation_goes_to_that_business(web: WebApp) -> None:
    admin = web.api("admin")
    group = group_with_two_businesses(admin)
    shibuya, shinjuku = group["businesses"]
    body = {"buyer_id": group["id"], "supplier_id": group["supplier"]["id"], "orderer_name": "山田",
            "lines": [{"product_name": "玉ねぎ", "quantity": "2.5"}]}
    unsaid = admin.post("/api/orders", json=body)
    assert unsaid.status_code == 422 and "business_id" in unsaid.json()["error"]
    other = admin.post("/api/buyers", json={"name": "別の食堂", "email": "o@betsu.example"}).json()
    assert admin.post(f"/api/buyers/{other['id']}/businesses", json={"name": "一号店", "email": "a@betsu.example"}
                      ).status_code == 201
    foreign = admin.get(f"/api/buyers/{other['id']}").json()["businesses"][0]
    assert admin.post("/api/orders", json=body | {"business_id": foreign["id"]}).status_code == 422

    placed = admin.post("/api/orders", json=body | {"business_id": shinjuku["id"]})
    assert placed.status_code == 201, placed.text
    assert placed.json()["business_id"] == shinjuku["id"]
    with web.runtime.db.transaction() as session:
        order = session.get(Order, placed.json()["id"])
        assert order is not None
        orders.fire(session, web.runtime.settings, order, "sent")
        orders.fire(session, web.runtime.settings, order, "confirm")
        confirmation = session.scalars(select(OutboundMessage).where(
            OutboundMessage.object_id == order.id, OutboundMessage.kind == "order_confirmation")).one()
        assert confirmation.to_addr == "shinjuku@yamada.example"
        assert "山田フーズ 新宿店" in confirmation.text
        sheet_mail = session.scalars(select(OutboundMessage).where(
            OutboundMessage.object_id == order.id, OutboundMessage.kind == "order_sheet")).one()
        assert sheet_mail.to_addr == "yaoshin@yasai.example" and "山田フーズ 新宿店" in sheet_mail.text
    assert shibuya["email"] == "shibuya@yamada.example"


def test_an_old_order_sheet_keeps_the_names_it_was_issued_with(web: WebApp) -> None:
    admin = web.api("admin")
    group = group_with_two_businesses(admin)
    hanako = joined_user(web, group["id"], "hanako@yamada.example", "緑 花子")
    placed = hanako.post("/api/orders", json={
        "buyer_id": group["id"], "supplier_id": group["supplier"]["id"], "business_id": group["businesses"][0]["id"],
        "lines": [{"product_name": "玉ねぎ", "quantity": "3"}]})
    assert placed.status_code == 201, placed.text
    assert placed.json()["orderer_name"] == "緑 花子" and placed.json()["orderer_id"] is not None
    path = f"/api/orders/{placed.json()['id']}/documents/order_sheet"
    before = admin.get(path)
    assert before.status_code == 200 and "緑花子" in pdf_text(before.content)

    user_id = placed.json()["orderer_id"]
    assert hanako.patch(f"/api/users/{user_id}", json={"name": "青空 花子"}).status_code == 200
    [told] = [m for m in admin.get("/api/outbox", params={"to": "hanako@yamada.example"}).json()
              if m["kind"] == "user_name_changed"]
    assert "緑 花子" in told["text"] and "青空 花子" in told["text"]
    with web.runtime.db.transaction() as session:
        business = session.get(Business, group["businesses"][0]["id"])
        buyer = session.get(Buyer, group["id"])
        assert business is not None and buyer is not None
        business.name, buyer.name = "渋谷駅前店", "山田ホールディングス"

    after = admin.get(path)
    assert after.content == before.content
    text = pdf_text(after.content)
    assert "緑花子" in text and "青空" not in text and "渋谷店" in text and "渋谷駅前店" not in text
    # A document made later from the same order (the delivery note) prints the order's names too.
    with web.runtime.db.transaction() as session:
        order = session.get(Order, placed.json()["id"])
        assert order is not None
        for trigger in ("sent", "confirm"):
            orders.fire(session, web.runtime.settings, order, trigger)
    assert admin.post(f"/api/orders/{placed.json()['id']}/ship").status_code == 200
    note = pdf_text(admin.get(f"/api/orders/{placed.json()['id']}/documents/delivery_note").content)
    assert "山田フーズ" in note and "山田ホールディングス" not in note and "渋谷駅前店" not in note
    # A new order is placed under the names as they are now.
    again = hanako.post(f"/api/orders/{placed.json()['id']}/reorder")
    assert again.status_code == 201
    assert again.json()["buyer_party"]["business"] == "渋谷駅前店"
