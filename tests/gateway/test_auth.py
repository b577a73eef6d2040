"""Default deny, sessions, CSRF, lockout, scopes: every route of the app, as a stranger and as each level."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from starlette.routing import Mount

from gateway.auth import SAFE_METHODS, required_level
from gateway.cli import main as torii
from webapp import FORM_TOKEN, PASSWORD, WebApp
from workflows import api_tokens, clock
from workflows.access import Level
from workflows.models import ApiToken, Event

# The only routes anyone may call: the health probes and the login form.
PUBLIC = {("GET", "/api/health"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"),
          # Registration's pages (manual 001): behind their links' tokens, CSRF-protected and rate-limited.
          *((method, path) for method in ("GET", "POST")
            for path in ("/register", "/register/1", "/register/approve/1", "/register/password/1")),
          ("GET", "/register/form.pdf"),  # the blank application form to fax
          # Buyers' users' pages (manual 004): the same, behind the links mailed to them.
          *((method, path) for method in ("GET", "POST")
            for path in ("/join/1", "/email/1", "/forgot-password", "/password-reset/1"))}


def routes(web: WebApp) -> list[tuple[str, str, Any]]:
    """Every (method, path with its parameters filled, endpoint) of the app."""
    found = []
    for route in iter_route_contexts(web.app.routes):
        if isinstance(route.original_route, Mount):
            assert route.path == "/static", f"an unexpected mount {route.path} bypasses the guard"
            continue
        assert isinstance(route.original_route, APIRoute), f"{route.path} is no APIRoute: nothing guards it"
        path = re.sub(r"\{(\w+)\}", lambda m: "order_sheet" if m.group(1) == "kind" else "1", route.path or "")
        for method in sorted(route.methods or ()):
            found.append((method, path, route.endpoint))
    return found


def test_every_route_but_the_public_ones_answers_401_without_credentials(web: WebApp) -> None:
    stranger = web.client()
    checked = 0
    for method, path, _endpoint in routes(web):
        if (method, path) in PUBLIC:
            continue
        response = stranger.request(method, path, json={})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} to a stranger"
        checked += 1
    assert checked > 40
    assert {(m, p) for m, p, _ in routes(web)} >= PUBLIC


def test_a_bad_or_revoked_token_is_401_like_none(web: WebApp) -> None:
    assert web.client(headers={"Authorization": "Bearer torii_made_up"}).get("/api/orders").status_code == 401
    secret = web.token("erp", "read")
    client = web.client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/orders").status_code == 200
    with web.runtime.db.transaction() as session:
        api_tokens.revoke_token(session, session.scalars(select(ApiToken).where(ApiToken.name == "erp")).one().id)
    assert client.get("/api/orders").status_code == 401


@pytest.mark.parametrize("who", ["viewer session", "read token"])
def test_reading_credentials_may_change_nothing(web: WebApp, who: str) -> None:
    if who == "viewer session":
        web.operator("mori", "viewer")
        client = web.login("mori")
    else:
        client = web.api("read")
    for method, path, endpoint in routes(web):
        if method in SAFE_METHODS or (method, path) in PUBLIC:
            continue
        response = client.request(method, path, json={})
        if endpoint.__name__ == "logout":  # leaving is always allowed
            assert response.status_code == 303
            client = web.login("mori") if who == "viewer session" else client
            continue
        assert response.status_code == 403, f"{who}: {method} {path} answered {response.status_code}"


def test_admin_routes_refuse_a_write_token_and_take_an_admin_one(web: WebApp) -> None:
    admin_only = [(m, p) for m, p, e in routes(web) if required_level(e, m) == Level.ADMIN]
    assert ("POST", "/api/buyers") in admin_only
    writer = web.api("write")
    for method, path in admin_only:
        assert writer.request(method, path, json={}).status_code == 403, f"{method} {path}"
    assert web.api("admin").post("/api/buyers", json={}).status_code == 422  # let in; the body is wrong


def test_a_session_post_needs_the_csrf_token(web: WebApp) -> None:
    web.operator("sato")
    client = web.login("sato")
    good = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/orders", json={}).status_code == 403
    assert client.post("/api/orders", json={}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/api/orders", json={}, headers={"X-CSRF-Token": good}).status_code == 422
    # A form post carries it as a field.
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": good}).status_code == 303
    assert client.get("/").status_code == 401  # the session ended


def test_login_form_needs_its_own_token(web: WebApp) -> None:
    web.operator("sato")
    client = web.client()
    answer = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert "torii_session" not in client.cookies


def _try_login(client: Any, name: str, password: str) -> int:
    token = FORM_TOKEN.search(client.get("/login").text)
    assert token
    return int(client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": token.group(1)}).status_code)


def test_wrong_passwords_lock_the_account_for_a_while(web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    web.operator("sato")
    client = web.client()
    assert _try_login(client, "sato", "wrong password!") == 401
    assert _try_login(client, "nobody", "wrong password!") == 401  # the same answer for an unknown name
    for _ in range(4):
        assert _try_login(client, "sato", "wrong password!") == 401
    assert _try_login(client, "sato", PASSWORD) == 401, "locked: even the right password is refused"
    frozen_clock.move(minutes=14)
    assert _try_login(client, "sato", PASSWORD) == 401
    frozen_clock.move(minutes=2)
    assert _try_login(client, "sato", PASSWORD) == 303


def test_a_session_ends_when_idle_or_old(web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    web.operator("sato")
    client = web.login("sato")
    frozen_clock.move(minutes=110)
    assert client.get("/").status_code == 200  # used: kept alive
    frozen_clock.move(minutes=110)
    assert client.get("/").status_code == 200
    frozen_clock.move(minutes=121)
    assert client.get("/").status_code == 401, "idle for over two hours"
    client = web.login("sato")
    for _ in range(12):
        frozen_clock.move(minutes=61)
        status = client.get("/").status_code
    assert status == 401, "over twelve hours since login, however busy"


def test_changing_the_password_ends_the_other_sessions(web: WebApp) -> None:
    web.operator("sato")
    laptop, phone = web.login("sato"), web.login("sato")
    token = phone.headers["X-CSRF-Token"]
    wrong = phone.post("/account/password", data={"csrf_token": token, "current": "nope", "new": "x" * 14,
                                                  "confirm": "x" * 14})
    assert wrong.status_code == 422
    short = phone.post("/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "short",
                                                  "confirm": "short"})
    assert short.status_code == 422
    done = phone.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                 "new": "a much better one", "confirm": "a much better one"})
    assert done.status_code == 200, done.text
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 401
    assert _try_login(web.client(), "sato", PASSWORD) == 401
    assert _try_login(web.client(), "sato", "a much better one") == 303


def test_cookies_and_headers(web: WebApp) -> None:
    web.operator("sato")
    client = web.client(base_url="https://127.0.0.1")
    token = FORM_TOKEN.search(client.get("/login").text)
    assert token
    answer = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": token.group(1),
                                         "next": "//evil.example/"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/", "never sent to another site after login"
    cookie = answer.headers["set-cookie"]
    assert "torii_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    for response in (client.get("/"), web.client().get("/api/orders"), web.client().get("/")):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in client.get("/").text.replace('<script src="/static/console.js" defer></script>', "")


def test_an_unauthenticated_page_shows_the_login_form_and_comes_back(web: WebApp) -> None:
    web.operator("sato")
    client = web.client()
    page = client.get("/orders/7?x=1")
    assert page.status_code == 401
    assert 'name="next" value="/orders/7?x=1"' in page.text
    assert client.get("/api/orders").headers["www-authenticate"].startswith("Bearer")


def _buyer_with_order(admin: Any, tag: str) -> tuple[int, int]:
    buyer = admin.post("/api/buyers", json={"name": f"店 {tag}", "email": f"{tag}@shop.example",
                                            "delivery_addresses": [{"name": "本店", "postal_code": "100-0005",
                                                                    "address": "東京都千代田区丸の内1-1-1"}]}).json()
    supplier = admin.post(f"/api/buyers/{buyer['id']}/suppliers", json={
        "name": f"八百屋 {tag}", "channel": "mail", "email": f"{tag}@yaoya.example"}).json()
    admin.put(f"/api/suppliers/{supplier['id']}/products", json={"name": "トマト", "unit": "箱", "unit_price": 3000})
    order = admin.post("/api/orders", json={
        "buyer_id": buyer["id"], "supplier_id": supplier["id"], "orderer_name": "佐藤",
        "lines": [{"product_name": "トマト", "quantity": 2}]})
    assert order.status_code == 201, order.text
    return buyer["id"], order.json()["id"]


def test_a_buyer_confined_token_sees_and_acts_on_its_own_buyer_only(web: WebApp) -> None:
    admin = web.api("admin")
    mine, my_order = _buyer_with_order(admin, "a")
    _theirs, their_order = _buyer_with_order(admin, "b")
    own = web.api("write", buyer_id=mine)
    assert [o["id"] for o in own.get("/api/orders").json()] == [my_order]
    assert own.get(f"/api/orders/{my_order}").status_code == 200
    assert own.get(f"/api/orders/{their_order}").status_code == 404
    assert own.post(f"/api/orders/{their_order}/ship", json={}).status_code == 404
    assert {m["object"]["id"] for m in own.get("/api/outbox").json()} == {my_order}
    assert own.get("/api/invitations").json() == []
    assert own.get(f"/api/buyers/{mine}").status_code == 200
    assert own.get(f"/api/buyers/{_theirs}").status_code == 404
    assert own.post("/api/buyers", json={}).status_code == 403


def test_what_a_token_does_is_signed_with_its_name(web: WebApp) -> None:
    admin = web.api("admin")
    _buyer, order_id = _buyer_with_order(admin, "c")
    with web.runtime.db.sessions() as session:
        actors = {e.actor for e in session.query(Event).filter(Event.object_type == "order",
                                                               Event.object_id == order_id)}
    assert any(a and a.startswith("token:") for a in actors), actors


def test_the_cli_adds_operators_and_makes_tokens(web: WebApp, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", web.runtime.settings.database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    torii(["user", "add", "kato", "--role", "viewer", "--password-stdin"])
    assert _try_login(web.client(), "kato", "a long enough secret") == 303
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="12 characters"):
        torii(["user", "add", "ito", "--role", "admin", "--password-stdin"])
    capsys.readouterr()
    torii(["token", "create", "--name", "erp", "--scope", "read"])
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("torii_")
    assert web.client(headers={"Authorization": f"Bearer {secret}"}).get("/api/orders").status_code == 200
    torii(["user", "list"])
    assert "kato\tviewer\tall\tactive" in capsys.readouterr().out


def test_the_openapi_schema_documents_how_every_operation_is_authorized(web: WebApp) -> None:
    assert web.client().get("/api/openapi.json").status_code == 401
    schema = web.api("read").get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {**schema["components"]["securitySchemes"]["bearer"],
                                                                 "type": "http", "scheme": "bearer"}
    documented = 0
    for method, path, endpoint in routes(web):
        operation = None
        level = required_level(endpoint, method)
        for template, methods in schema["paths"].items():
            if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path) and method.lower() in methods:
                operation = methods[method.lower()]
        if operation is None:
            continue  # the console's pages are not part of the API's schema
        documented += 1
        if level is None:
            assert operation["security"] == [] and operation["x-torii-scope"] == "public", path
        else:
            assert operation["security"] == [{"bearer": []}, {"session": []}], path
            assert operation["x-torii-scope"] == level.name.lower(), (method, path)
    assert documented > 30
    assert schema["paths"]["/api/webhooks/endpoints"]["post"]["x-torii-scope"] == "admin"
    assert schema["paths"]["/api/invitations"]["post"]["x-torii-scope"] == "write"
    assert not any(p.startswith(("/login", "/review", "/webhooks")) for p in schema["paths"])
