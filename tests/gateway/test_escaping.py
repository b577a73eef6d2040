"""What partners and buyers' files say reaches the console as text: markup in CSV fields is escaped."""

from __future__ import annotations

from webapp import WebApp

SCRIPT = "<script>alert(1)</script>"


def test_markup_in_csv_fields_is_shown_as_text(web: WebApp) -> None:
    admin = web.api("admin")
    buyer = admin.post("/api/buyers", json={"name": "食堂", "email": "o@shokudo.example", "delivery_addresses": [
        {"name": "本店", "postal_code": "100-0005", "address": "東京都千代田区丸の内1-1-1"}]}).json()
    suppliers = ("発注先名,FAX番号,メールアドレス,送信方法,担当者\n"
                 f"八百屋{SCRIPT},,y@yaoya.example,メール,\"{SCRIPT}\"\n")
    products = ("発注先名,商品名,単位,単価,備考\n"
                f"八百屋{SCRIPT},トマト{SCRIPT},箱,100,\"<img src=x onerror=alert(2)>\"\n")
    for kind, body in (("suppliers", suppliers), ("products", products)):
        answer = admin.post(f"/api/buyers/{buyer['id']}/import/{kind}", content=body.encode(),
                            headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200, answer.text
    supplier = admin.get(f"/api/buyers/{buyer['id']}").json()["suppliers"][0]
    order = admin.post("/api/orders", json={"buyer_id": buyer["id"], "supplier_id": supplier["id"],
                                            "orderer_name": SCRIPT, "note": SCRIPT,
                                            "lines": [{"product_name": f"トマト{SCRIPT}", "quantity": 1}]})
    assert order.status_code == 201, order.text

    web.operator("sato")
    console = web.login("sato")
    for path in ("/", f"/orders/{order.json()['id']}"):
        page = console.get(path)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert SCRIPT not in page.text and "<img src=x" not in page.text, path
