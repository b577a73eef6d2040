"""Buyers' users by mail (manual 004), through the API and the mails it actually produces: an invitation
accepted within its 48 hours, one refused after them and sent again, a change of address that both addresses
hear of and the new one confirms, and an address another user has, refused."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

from fastapi.testclient import TestClient

from gateway.public_forms import form_cookie
from webapp import FORM_TOKEN, WebApp, post_form
from workflows import clock

PASSWORD = "a long enough secret"


def buyer(admin: TestClient, name: str = "レストラン山田") -> dict[str, Any]:
    answer = admin.post("/api/buyers", json={"name": name, "email": "order@yamada.example", "delivery_addresses": [
        {"name": "本店", "postal_code": "111-0032", "address": "東京都台東区浅草1-2-3"}]})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def mails_to(admin: TestClient, address: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in admin.get("/api/outbox", params={"to": address}).json() if m["kind"] == kind]


def link_in(admin: TestClient, mail: dict[str, Any], path: str) -> str:
    """The link in the mail as sent: read from the raw MIME message, in its text and its HTML part alike."""
    raw = admin.get(f"/api/outbox/{mail['id']}/raw").content
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    found = re.search(rf"https?://[^/\s]+({path}/[\w-]+)", text.get_content())
    assert found, text.get_content()
    assert f'href="{found.group(0)}"' in html.get_content()
    return found.group(1)


def invite(admin: TestClient, buyer_id: int, address: str, **more: Any) -> Any:
    return admin.post(f"/api/buyers/{buyer_id}/users", json={"email": address, **more})


def test_an_invited_user_joins_within_48_hours_and_changes_address_confirmed_by_mail(
        web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    admin = web.api("admin")
    group = buyer(admin)
    answer = invite(admin, group["id"], "Hanako@Midori.example", role="operator", language="ja")
    assert answer.status_code == 201, answer.text
    user = answer.json()
    assert (user["email"], user["status"], user["role"]) == ("hanako@midori.example", "invited", "operator")
    [invitation] = mails_to(admin, "hanako@midori.example", "user_invite")
    assert "レストラン山田" in invitation["subject"] and "48時間" in invitation["text"]
    join = link_in(admin, invitation, "/join")

    # Not yet accepted: the address cannot log in; 47 hours later the link still works.
    browser = web.client()
    login_form = browser.get("/login")
    form_token = FORM_TOKEN.search(login_form.text)
    assert form_token
    assert browser.post("/login", data={"name": "hanako@midori.example", "password": "", "next": "/",
                                        "csrf_token": form_token.group(1)}).status_code == 401
    frozen_clock.move(hours=47, minutes=59)
    page = browser.get(join)
    assert page.status_code == 200 and "hanako@midori.example" in page.text
    short = post_form(browser, join, {"name": "緑 花子", "password": "short", "password_again": "short"})
    assert short.status_code == 422
    done = post_form(browser, join, {"name": "緑 花子", "password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 200, done.text
    assert browser.get(join).status_code == 410  # once
    hanako = web.login("hanako@midori.example", PASSWORD)
    assert hanako.get("/api/orders").status_code == 200
    assert admin.get(f"/api/users/{user['id']}").json()["status"] == "active"
    assert admin.get(f"/api/users/{user['id']}").json()["name"] == "緑 花子"

    # The user changes its own address: the new address must confirm; both addresses hear of it.
    changed = hanako.patch(f"/api/users/{user['id']}", json={"email": "hanako@aozora.example"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["email"], changed.json()["pending_email"]) == ("hanako@midori.example",
                                                                          "hanako@aozora.example")
    [confirm] = mails_to(admin, "hanako@aozora.example", "user_email_confirm")
    [notice] = mails_to(admin, "hanako@midori.example", "user_email_notice")
    for mail in (confirm, notice):
        assert "hanako@midori.example" in mail["text"] and "hanako@aozora.example" in mail["text"]
    assert "/email/" not in notice["text"]  # only the new address can confirm
    confirm_path = link_in(admin, confirm, "/email")
    assert browser.get(confirm_path).status_code == 200  # opening the link changes nothing yet
    assert admin.get(f"/api/users/{user['id']}").json()["email"] == "hanako@midori.example"
    assert post_form(browser, confirm_path, {}).status_code == 200
    assert admin.get(f"/api/users/{user['id']}").json()["email"] == "hanako@aozora.example"
    assert browser.get(confirm_path).status_code == 410
    web.login("hanako@aozora.example", PASSWORD)

    # An address another user has (or asked for) is refused: invited, or changed to.
    assert invite(admin, group["id"], "HANAKO@aozora.example").status_code == 409
    other = invite(admin, group["id"], "taro@midori.example").json()
    clash = admin.patch(f"/api/users/{user['id']}", json={"email": "taro@midori.example"})
    assert clash.status_code == 409 and "used by another user" in clash.json()["error"]
    assert invite(admin, buyer(admin, "別の食堂")["id"], "taro@midori.example").status_code == 409
    assert other["status"] == "invited"
    assert invite(admin, group["id"], "not an address").status_code == 422


def test_an_invitation_is_refused_after_48_hours_and_sending_it_again_replaces_the_link(
        web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    admin = web.api("admin")
    group = buyer(admin)
    user = invite(admin, group["id"], "jiro@midori.example", language="en").json()
    [first] = mails_to(admin, "jiro@midori.example", "user_invite")
    assert "48 hours" in first["text"]  # the user's language
    old = link_in(admin, first, "/join")
    frozen_clock.move(hours=48, seconds=1)
    browser = web.client()
    expired = browser.get(old)
    assert expired.status_code == 410 and "有効期限" in expired.text and "send it again" in expired.text
    token = browser.cookies.get(form_cookie(old)) or "x"
    late = browser.post(old, data={"name": "Jiro", "password": PASSWORD, "password_again": PASSWORD,
                                   "csrf_token": token})
    assert late.status_code in (403, 410)
    assert admin.get(f"/api/users/{user['id']}").json()["status"] == "invite_expired"

    again = admin.post(f"/api/users/{user['id']}/resend-invite")
    assert again.status_code == 200 and again.json()["status"] == "invited"
    second = mails_to(admin, "jiro@midori.example", "user_invite")[-1]
    new = link_in(admin, second, "/join")
    assert new != old and browser.get(old).status_code == 410
    # A resend replaces a link that still works too.
    third = admin.post(f"/api/users/{user['id']}/resend-invite")
    assert third.status_code == 200
    replaced = browser.get(new)
    assert replaced.status_code == 410 and "latest mail" in replaced.text
    newest = link_in(admin, mails_to(admin, "jiro@midori.example", "user_invite")[-1], "/join")
    assert post_form(browser, newest, {"name": "Jiro <b>", "password": PASSWORD,
                                       "password_again": PASSWORD}).status_code == 200
    assert admin.post(f"/api/users/{user['id']}/resend-invite").status_code == 422  # accepted already
    assert admin.get(f"/api/users/{user['id']}").json()["name"] == "Jiro <b>"
