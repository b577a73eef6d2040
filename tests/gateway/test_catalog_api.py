"""The catalog's HTTP API, on a real database and a runtime with a real Redis, through FastAPI's test client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from samples.compose import SAMPLES
from webapp import TestClient, WebApp

BUYER = {"name": "レストラン山田", "email": "order@yamada.example", "phone": "03-5555-0101",
         "delivery_addresses": [{"name": "本店", "postal_code": "100-0005", "address": "東京都千代田区丸の内1-1-1"}]}


@pytest.fixture
def client(web: WebApp) -> TestClient:
    """The whole web app, called with an admin token."""
    return web.api("admin")


def created(client: TestClient, path: str, body: Mapping[str, object]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert isinstance(data, dict)
    return data


def test_a_buyer_is_read_back_with_its_delivery_addresses_and_suppliers(client: TestClient) -> None:
    buyer = created(client, "/api/buyers", BUYER)
    address = created(client, f"/api/buyers/{buyer['id']}/delivery_addresses",
                      {"name": "倉庫", "address": "神奈川県横浜市磯子区1-2", "recipient": "佐藤"})
    supplier = created(client, f"/api/buyers/{buyer['id']}/suppliers",
                       {"name": "八百新青果", "fax": "０３（３８４１）２２０７", "channel": "fax",
                        "contact_name": "新井"})
    assert supplier["fax"] == "+81338412207"

    found = client.get(f"/api/buyers/{buyer['id']}").json()
    assert (found["name"], found["email"], found["language"]) == ("レストラン山田", "order@yamada.example", "ja")
    assert [a["name"] for a in found["delivery_addresses"]] == ["本店", "倉庫"]
    assert found["delivery_addresses"][1] == address
    assert [(s["name"], s["channel"], s["fax"]) for s in found["suppliers"]] == [("八百新青果", "fax", "+81338412207")]


def test_putting_a_product_creates_it_then_overwrites_it_by_name(client: TestClient) -> None:
    buyer = created(client, "/api/buyers", BUYER)
    supplier = created(client, f"/api/buyers/{buyer['id']}/suppliers", {"name": "丸魚", "email": "o@marugyo.example"})
    path = f"/api/suppliers/{supplier['id']}/products"

    first = client.put(path, json={"name": "ﾏｸﾞﾛ 中トロ", "unit": "kg", "unit_price": 8500})
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.put(path, json={"name": "マグロ中トロ", "unit": "kg", "unit_price": "￥9,000", "note": "柵"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]

    products = client.get(f"/api/suppliers/{supplier['id']}").json()["products"]
    assert [(p["name"], p["unit_price"], p["note"]) for p in products] == [("マグロ中トロ", 9000, "柵")]


def test_wrong_bodies_are_422_and_unknown_objects_404(client: TestClient) -> None:
    buyer = created(client, "/api/buyers", BUYER)
    refused = client.post(f"/api/buyers/{buyer['id']}/suppliers", json={"name": "八百新", "channel": "fax"})
    assert refused.status_code == 422
    assert refused.json() == {"error": "fax: orders go by fax (channel FAX) but no fax number is given"}
    assert client.post("/api/buyers", json=BUYER).status_code == 422  # the same name again
    assert client.get("/api/buyers/999").status_code == 404
    assert client.get("/api/suppliers/999").status_code == 404
    assert client.put("/api/suppliers/999/products", json={"name": "x"}).status_code == 404
    assert client.post("/api/buyers/999/import/suppliers", content=b"name,fax\nA,0311112222\n",
                       headers={"Content-Type": "text/csv"}).status_code == 404
    assert client.post(f"/api/buyers/{buyer['id']}/import/orders", content=b"a\n",
                       headers={"Content-Type": "text/csv"}).status_code == 404


def test_csv_files_import_with_counts_and_a_bad_one_lists_every_row_and_writes_nothing(client: TestClient) -> None:
    buyer = created(client, "/api/buyers", BUYER)
    base = f"/api/buyers/{buyer['id']}/import"
    csv_type = {"Content-Type": "text/csv; charset=utf-8"}  # the charset is not trusted: the bytes are CP932

    response = client.post(f"{base}/suppliers", content=(SAMPLES / "csv" / "suppliers.utf8.csv").read_bytes(),
                           headers=csv_type)
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "suppliers", "encoding": "utf-8", "rows": 3, "created": 3, "updated": 0,
                               "notes": []}
    response = client.post(f"{base}/products", content=(SAMPLES / "csv" / "products.cp932.csv").read_bytes(),
                           headers=csv_type)
    assert response.status_code == 200, response.text
    assert (response.json()["encoding"], response.json()["created"]) == ("cp932", 6)
    before = client.get(f"/api/buyers/{buyer['id']}").json()

    bad = ("発注先名,商品名,単位,単価\r\n"
           "有限会社 八百新青果,ﾄﾏﾄ (桃太郎),ｹｰｽ,\"3,500\"\r\n"  # good, yet not written
           "八百屋,ﾚﾀｽ,個,200\r\n"
           "丸魚水産株式会社,ｲｶ①,杯,時価\r\n").encode("cp932")
    response = client.post(f"{base}/products", content=bad, headers=csv_type)
    assert response.status_code == 422
    body = response.json()
    assert (body["kind"], body["encoding"], body["total"]) == ("products", "cp932", 2)
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "発注先名"), (4, "単価")]
    assert "八百屋" in body["rows"][0]["message"] and "'時価' is not a price" in body["rows"][1]["message"]
    assert body["error"].startswith("products CSV not imported, nothing was written: row 3, 発注先名: ")

    assert client.get(f"/api/buyers/{buyer['id']}").json() == before
    tomato = [p for s in before["suppliers"] if s["name"] == "有限会社 八百新青果"
              for p in client.get(f"/api/suppliers/{s['id']}").json()["products"] if p["name"] == "ﾄﾏﾄ (桃太郎)"]
    assert [p["unit_price"] for p in tomato] == [3200]


def test_an_upload_that_is_not_a_csv_body_is_refused_before_reading_it(client: TestClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    buyer = created(client, "/api/buyers", BUYER)
    path = f"/api/buyers/{buyer['id']}/import/suppliers"
    form = client.post(path, files={"file": ("suppliers.csv", b"name,fax\nA,0311112222\n", "text/csv")})
    assert form.status_code == 415
    assert "send the CSV file itself as the body" in form.json()["error"]

    monkeypatch.setattr("gateway.api.catalog.MAX_CSV_BYTES", 100)
    big = client.post(path, content=b"name,fax\n" + b"A,0311112222\n" * 10, headers={"Content-Type": "text/csv"})
    assert big.status_code == 413
    message = "the file is larger than 100 bytes: split it"
    assert big.json() == {"error": message, "rows": [{"row": None, "column": None, "message": message}]}
    assert client.get(f"/api/buyers/{buyer['id']}").json()["suppliers"] == []
