"""Buyers' users' password reset and CSV import, in process on a real database and Redis: a one-hour link that
works once, the same answer for every address, rate limits; users, businesses and delivery addresses from
CP932 and UTF-8 files, every bad line named."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp import WebApp, post_form
from workflows import clock, users
from workflows.errors import Conflict
from workflows.models import Buyer, Operator, OutboundMessage

PASSWORD = "a long enough secret"
NEW_PASSWORD = "another long secret"


def reset_mails(web: WebApp) -> list[OutboundMessage]:
    with web.runtime.db.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "user_password_reset")
                                    .order_by(OutboundMessage.id)))


def member(web: WebApp, address: str = "hanako@midori.example") -> int:
    with web.runtime.db.transaction() as session:
        buyer = Buyer(name="みどり食堂", email="o@midori.example")
        session.add(buyer)
        session.flush()
        user = users.invite(session, web.runtime.settings, buyer, {"email": address})
        _, url = users.links.issue(session, web.runtime.settings, user, users.LinkPurpose.INVITE)
        users.accept(session, url.rsplit("/", 1)[1], "緑 花子", PASSWORD)
        return user.id


def reset_path(mail: OutboundMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/password-reset/[\w-]+)", mail.text)
    assert found, mail.text
    return found.group(1)


def test_a_reset_link_works_once_within_the_hour_and_ends_the_other_sessions(
        web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    member(web)
    old_session = web.login("hanako@midori.example", PASSWORD)
    browser = web.client()
    known = post_form(browser, "/forgot-password", {"email": "Hanako@midori.example"})
    unknown = post_form(browser, "/forgot-password", {"email": "nobody@midori.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text  # no way to tell who is a user
    [mail] = reset_mails(web)
    assert mail.to_addr == "hanako@midori.example" and "60分" in mail.text
    path = reset_path(mail)

    frozen_clock.move(minutes=59)
    assert post_form(browser, path, {"password": NEW_PASSWORD, "password_again": "typo"}).status_code == 422
    assert post_form(browser, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 200
    assert browser.get(path).status_code == 410
    assert old_session.get("/api/orders").status_code == 401
    web.login("hanako@midori.example", NEW_PASSWORD)

    post_form(browser, "/forgot-password", {"email": "hanako@midori.example"})
    late = reset_path(reset_mails(web)[-1])
    frozen_clock.move(hours=1, seconds=1)
    expired = browser.get(late)
    assert expired.status_code == 410 and "有効期限" in expired.text


def test_reset_mails_are_limited_per_address_and_posts_per_client(web: WebApp) -> None:
    member(web)
    browser = web.client()
    for _ in range(5):
        assert post_form(browser, "/forgot-password", {"email": "hanako@midori.example"}).status_code == 200
    mails = reset_mails(web)
    assert len(mails) == web.runtime.settings.password_reset_mail_limit
    # Only the newest link works: each one replaces the one before.
    assert browser.get(reset_path(mails[0])).status_code == 410
    assert browser.get(reset_path(mails[-1])).status_code == 200
    assert browser.post("/forgot-password", data={"email": "x@y.example"}).status_code == 403  # no form token
    statuses = [post_form(browser, "/forgot-password", {"email": "x@y.example"}).status_code
                for _ in range(web.runtime.settings.public_form_limit)]
    assert statuses[-1] == 429


def test_an_invited_user_cannot_reset_or_log_in_before_accepting(web: WebApp) -> None:
    admin = web.api("admin")
    buyer = admin.post("/api/buyers", json={"name": "食堂", "email": "o@shokudo.example"}).json()
    assert admin.post(f"/api/buyers/{buyer['id']}/users", json={"email": "new@shokudo.example"}).status_code == 201
    post_form(web.client(), "/forgot-password", {"email": "new@shokudo.example"})
    assert reset_mails(web) == []


def test_two_invites_of_one_address_at_once_give_one_user_and_a_conflict(web: WebApp,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The second invite checked before the first committed: only the unique index can tell it.
    member(web, "hanako@midori.example")
    monkeypatch.setattr(users.invites, "refuse_taken", lambda *args, **kwargs: None)
    with web.runtime.db.transaction() as session:
        buyer = session.scalars(select(Buyer)).one()
        with pytest.raises(Conflict, match="hanako@midori.example"):
            users.invite(session, web.runtime.settings, buyer, {"email": "Hanako@midori.example"})
        session.add(Buyer(name="まだ書ける", email="x@y.example"))  # the transaction goes on
    with web.runtime.db.sessions() as session:
        assert session.scalars(select(Operator).where(Operator.email == "hanako@midori.example")).one()
        assert session.scalars(select(Buyer).where(Buyer.name == "まだ書ける")).one()


USERS_UTF8 = ("メールアドレス,氏名,権限,言語\n"
              "hanako@midori.example,緑 花子,管理者,日本語\n"
              "taro@midori.example,<b>太郎</b>,担当者,\n"
              "john@midori.example,John Smith,viewer,English\n")


def test_users_are_invited_from_a_utf8_or_cp932_file_and_a_bad_file_invites_nobody(web: WebApp) -> None:
    admin = web.api("admin")
    buyer = admin.post("/api/buyers", json={"name": "みどり食堂", "email": "o@midori.example"}).json()
    url = f"/api/buyers/{buyer['id']}/users/import"
    bad = ("メールアドレス,氏名,権限\n"
           "hanako@midori.example,緑 花子,管理者\n"
           "not-an-address,誰か,担当者\n"
           "HANAKO@midori.example,重複,担当者\n"
           "jiro@midori.example,次郎,社長\n").encode("cp932")
    refused = admin.post(url, content=bad, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["encoding"] == "cp932"
    assert [(e["row"], e["column"]) for e in body["rows"]] == [(3, "メールアドレス"), (4, "メールアドレス"),
                                                                (5, "権限")]
    assert "row 2" in body["rows"][1]["message"]
    assert admin.get(f"/api/buyers/{buyer['id']}/users").json() == []

    done = admin.post(url, content=("\ufeff" + USERS_UTF8).encode(), headers={"Content-Type": "text/csv"})
    assert done.status_code == 200, done.text
    assert (done.json()["encoding"], done.json()["created"]) == ("utf-8-sig", 3)
    listed = {u["email"]: u for u in admin.get(f"/api/buyers/{buyer['id']}/users").json()}
    assert (listed["hanako@midori.example"]["role"], listed["john@midori.example"]["language"]) == ("admin", "en")
    assert {u["status"] for u in listed.values()} == {"invited"}
    with web.runtime.db.sessions() as session:
        invited = session.scalars(select(OutboundMessage.to_addr).where(OutboundMessage.kind == "user_invite")).all()
        assert sorted(invited) == sorted(listed)
    again = admin.post(url, content=USERS_UTF8.encode("cp932"), headers={"Content-Type": "text/csv"})
    assert again.status_code == 422
    assert {e["row"] for e in again.json()["rows"]} == {2, 3, 4}
    assert all("used by another user" in e["message"] for e in again.json()["rows"])
    assert admin.post(f"/api/buyers/{buyer['id']}/import/users", content=USERS_UTF8.encode(),
                      headers={"Content-Type": "text/csv"}).status_code == 404
    assert web.api("write").post(url, content=USERS_UTF8.encode(), headers={"Content-Type": "text/csv"}
                                 ).status_code == 403


def test_businesses_and_delivery_addresses_come_from_cp932_and_utf8_files_with_every_bad_line(web: WebApp) -> None:
    admin = web.api("admin")
    buyer = admin.post("/api/buyers", json={"name": "山田フーズ", "email": "hq@yamada.example"}).json()
    url = f"/api/buyers/{buyer['id']}/import"
    bad = ("店舗名,メールアドレス,電話番号,FAX\n"
           "渋谷店,shibuya@yamada.example,03-1111-0000,03-1111-0001\n"
           "新宿店,,03-2222-0000,\n"
           "渋谷店,other@yamada.example,,\n").encode("cp932")
    refused = admin.post(f"{url}/businesses", content=bad, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    assert [(e["row"], e["column"]) for e in refused.json()["rows"]] == [(3, "メールアドレス"), (4, "店舗名")]
    good = bad.decode("cp932").replace("新宿店,,", "新宿店,shinjuku@yamada.example,").replace(
        "渋谷店,other@yamada.example,,\n", "").encode("cp932")
    done = admin.post(f"{url}/businesses", content=good, headers={"Content-Type": "text/csv"})
    assert done.status_code == 200 and done.json()["created"] == 2, done.text
    addresses = ("お届け先名,郵便番号,住所\n本店,1110032,東京都台東区浅草1-2-3\n倉庫,,\n").encode()
    refused = admin.post(f"{url}/delivery_addresses", content=addresses, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422 and [(e["row"], e["column"]) for e in refused.json()["rows"]] == [(3, "住所")]
    fixed = addresses.replace("倉庫,,".encode(), "倉庫,,東京都江東区1-1".encode())
    assert admin.post(f"{url}/delivery_addresses", content=fixed, headers={"Content-Type": "text/csv"}
                      ).status_code == 200
    detail = admin.get(f"/api/buyers/{buyer['id']}").json()
    assert [(b["name"], b["email"], b["fax"]) for b in detail["businesses"]] == [
        ("渋谷店", "shibuya@yamada.example", "+81311110001"), ("新宿店", "shinjuku@yamada.example", "")]
    assert [a["postal_code"] for a in detail["delivery_addresses"]] == ["111-0032", ""]


def test_an_operator_made_by_the_cli_has_no_address_to_reset(web: WebApp) -> None:
    web.operator("sato")
    with web.runtime.db.sessions() as session:
        sato = session.scalars(select(Operator).where(Operator.name == "sato")).one()
        assert sato.email is None and not sato.invite_pending
    web.login("sato")


def test_the_console_invites_sends_again_and_refuses_a_taken_address(web: WebApp) -> None:
    admin_api = web.api("admin")
    buyer = admin_api.post("/api/buyers", json={"name": "みどり食堂<i>", "email": "o@midori.example"}).json()
    web.operator("boss", "admin")
    console = web.login("boss")
    invited = console.post("/users/invite", data={"buyer_id": str(buyer["id"]), "email": "ken@midori.example",
                                                  "name": "<script>x</script>", "role": "viewer", "language": "en"})
    assert invited.status_code == 303
    page = console.get("/users")
    assert "ken@midori.example" in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "<script>x" not in page.text and "みどり食堂&lt;i&gt;" in page.text
    taken = console.post("/users/invite", data={"buyer_id": str(buyer["id"]), "email": "KEN@midori.example"})
    assert taken.status_code == 409 and "used by another user" in taken.text
    [user] = admin_api.get(f"/api/buyers/{buyer['id']}/users").json()
    assert console.post(f"/users/{user['id']}/resend").status_code == 303
    with web.runtime.db.sessions() as session:
        sent = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "user_invite")).all()
        assert [m.to_addr for m in sent] == ["ken@midori.example"] * 2
        assert "48 hours" in sent[0].text
    # An operator confined to another buyer sees none of these users, and may not invite.
    other = admin_api.post("/api/buyers", json={"name": "別の食堂", "email": "o@betsu.example"}).json()
    web.operator("clerk", "operator", buyer_id=other["id"])
    clerk = web.login("clerk")
    assert "ken@midori.example" not in clerk.get("/users").text
    assert clerk.post("/users/invite", data={"buyer_id": str(other["id"]), "email": "a@betsu.example"}
                      ).status_code == 403
    assert web.api("admin", buyer_id=other["id"]).get(f"/api/users/{user['id']}").status_code == 404
