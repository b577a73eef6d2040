"""Registration's public pages and timers, in process on a real database: links that expire and work once,
the application's checks, the wholesaler's page, the password link, the 999 account IDs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from gateway.public_forms import form_cookie
from webapp import WebApp, post_form
from workflows import clock, registration
from workflows.errors import TransitionRefused
from workflows.models import OutboundMessage
from workflows.registration import Company, CompanyAccount, Registration
from workflows.registration.issuing import MAX_ACCOUNTS, TooManyAccounts, add_account
from workflows.registration.timers import run_timer

APPLICATION = {"agree": "yes", "company_name": "株式会社みどり青果", "company_address": "東京都台東区1-2-3",
               "company_phone": "03-1111-2222", "jan_maker_code": "4512345678", "wholesaler_company": "丸卸株式会社",
               "wholesaler_department": "青果部", "wholesaler_contact": "佐藤", "wholesaler_email": "sato@maru.example",
               "admin_name": "緑 花子", "admin_email": "hanako@midori.example"}


def mails(web: WebApp, kind: str) -> list[OutboundMessage]:
    with web.runtime.db.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.kind == kind)
                                    .order_by(OutboundMessage.id)))


def started(web: WebApp, company: str = "株式会社みどり青果") -> tuple[int, str]:
    with web.runtime.db.transaction() as session:
        begun = registration.start(session, web.runtime.settings, applicant_email="taro@midori.example",
                                   company_name=company, channel="api")
        assert begun.link is not None
        return begun.registration.id, begun.link.removeprefix(web.runtime.settings.public_url)


def test_the_start_page_mails_the_link_and_refuses_forged_or_mismatched_posts(web: WebApp) -> None:
    browser = web.client()
    assert browser.post("/register", data={"email": "a@b.example", "email_again": "a@b.example",
                                           "company_name": "x"}).status_code == 403  # no form token
    mismatch = post_form(browser, "/register", {"email": "a@midori.example", "email_again": "b@midori.example",
                                                "company_name": "みどり青果"})
    assert mismatch.status_code == 422 and "一致しません" in mismatch.text
    done = post_form(browser, "/register", {"email": "a@midori.example", "email_again": "A@midori.example",
                                            "company_name": "<b>みどり</b>青果"})
    assert done.status_code == 200 and "10" in done.text
    [link_mail] = mails(web, "registration_link")
    assert link_mail.to_addr == "a@midori.example" and "利用規約" in link_mail.text
    assert "<b>" not in done.text


def test_an_application_is_checked_whole_and_the_link_then_works_no_more(web: WebApp) -> None:
    _, path = started(web)
    browser = web.client()
    bad = post_form(browser, path, {**APPLICATION, "jan_maker_code": "4569951116178",
                                    "admin_email": "hanako@gmail.com", "wholesaler_contact": ""})
    assert bad.status_code == 422
    assert "チェックディジット" in bad.text or "check digit" in bad.text
    assert "gmail.com" in bad.text and "認証先卸担当者名" in bad.text
    assert mails(web, "registration_wholesaler_request") == []
    no_terms = post_form(browser, path, {**APPLICATION, "agree": ""})
    assert no_terms.status_code == 422 and "利用規約" in no_terms.text

    assert post_form(browser, path, APPLICATION).status_code == 200
    [request] = mails(web, "registration_wholesaler_request")
    assert request.to_addr == "sato@maru.example" and "4512345678" in request.text
    used = browser.get(path)
    assert used.status_code == 410 and 'href="/register"' in used.text


def test_a_browser_that_opened_the_start_page_first_can_still_post_the_application(web: WebApp) -> None:
    # /register's form cookie reaches /register/{token} too (cookie paths are prefixes); the two pages'
    # tokens must not be confused.
    _, path = started(web)
    browser = web.client()
    assert browser.get("/register").status_code == 200
    assert post_form(browser, path, APPLICATION).status_code == 200
    assert len(mails(web, "registration_wholesaler_request")) == 1


def test_an_expired_link_says_so_and_leads_back_to_the_start(web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    registration_id, path = started(web)
    frozen_clock.move(days=10, minutes=1)
    page = web.client().get(path)
    assert page.status_code == 410 and "有効期限" in page.text and 'href="/register"' in page.text
    assert web.client().get("/register/not-a-token").status_code == 404
    with web.runtime.db.transaction() as session:
        reg = session.get(Registration, registration_id)
        assert reg is not None and run_timer(session, web.runtime.settings, reg, clock.now()) == "expire"
        assert reg.state == "expired"


def applied(web: WebApp) -> tuple[int, str]:
    registration_id, path = started(web)
    with web.runtime.db.transaction() as session:
        reg = session.get(Registration, registration_id)
        assert reg is not None
        url = registration.apply(session, web.runtime.settings, reg, APPLICATION)
    return registration_id, url.removeprefix(web.runtime.settings.public_url)


def test_the_wholesaler_rejects_on_its_page_and_the_applicant_hears_why(web: WebApp) -> None:
    registration_id, path = applied(web)
    browser = web.client()
    page = browser.get(path)
    assert page.status_code == 200 and "みどり青果" in page.text
    answer = post_form(browser, path, {"decision": "reject", "reason": "取引実績がありません"})
    assert answer.status_code == 200
    [told] = mails(web, "registration_rejected")
    assert told.to_addr == "taro@midori.example" and "取引実績がありません" in told.text
    assert "回答済み" in browser.get(path).text  # no form any more
    again = browser.post(path, data={"decision": "approve", "csrf_token": browser.cookies[form_cookie(path)]})
    assert again.status_code == 409


def test_approval_issues_the_ids_and_the_password_link_works_once(web: WebApp, frozen_clock: clock.FrozenClock
                                                                   ) -> None:
    _, path = applied(web)
    browser = web.client()
    assert post_form(browser, path, {"decision": "approve"}).status_code == 200
    complete = {m.to_addr: m for m in mails(web, "registration_complete")}
    assert set(complete) == {"hanako@midori.example", "taro@midori.example"}
    link = re.search(r"http://\S+(/register/password/[\w-]+)", complete["hanako@midori.example"].text)
    assert link and "/register/password/" not in complete["taro@midori.example"].text
    with web.runtime.db.sessions() as session:
        company = session.scalars(select(Company)).one()
        assert (company.code, company.name, company.jan_maker_code) == ("C000001", "株式会社みどり青果", "4512345678")
    short = post_form(browser, link.group(1), {"password": "short", "password_again": "short"})
    assert short.status_code == 422
    done = post_form(browser, link.group(1), {"password": "a long enough secret", "password_again":
                                              "a long enough secret"})
    assert done.status_code == 200 and "C000001-001" in done.text
    assert browser.get(link.group(1)).status_code == 410
    with web.runtime.db.sessions() as session:
        account = session.scalars(select(CompanyAccount)).one()
        assert account.password_hash and account.password_hash.startswith("$argon2id$")


def test_an_unused_password_link_expires(web: WebApp, frozen_clock: clock.FrozenClock) -> None:
    _, path = applied(web)
    post_form(web.client(), path, {"decision": "approve"})
    [complete] = [m for m in mails(web, "registration_complete") if m.to_addr == "hanako@midori.example"]
    link = re.search(r"http://\S+(/register/password/[\w-]+)", complete.text)
    assert link
    frozen_clock.move(hours=web.runtime.settings.password_link_hours, seconds=1)
    assert web.client().get(link.group(1)).status_code == 410


def test_a_silent_wholesaler_is_reminded_then_the_application_lapses(web: WebApp,
                                                                     frozen_clock: clock.FrozenClock) -> None:
    registration_id, _ = applied(web)
    days = web.runtime.settings.registration_approval_days

    def tick() -> str | None:
        with web.runtime.db.transaction() as session:
            reg = session.get(Registration, registration_id, with_for_update=True)
            assert reg is not None
            return run_timer(session, web.runtime.settings, reg, clock.now())

    assert tick() is None
    frozen_clock.move(days=days)
    assert tick() == "remind"
    [reminder] = mails(web, "registration_wholesaler_reminder")
    assert reminder.to_addr == "sato@maru.example" and reminder.subject.startswith("【再送】")
    new_page = re.search(r"http://\S+(/register/approve/[\w-]+)", reminder.text)
    assert new_page and web.client().get(new_page.group(1)).status_code == 200
    assert tick() is None
    frozen_clock.move(days=days)
    assert tick() == "lapse"
    [told] = mails(web, "registration_lapsed")
    assert told.to_addr == "taro@midori.example"


def test_a_company_has_at_most_999_account_ids(web: WebApp) -> None:
    _, path = applied(web)
    post_form(web.client(), path, {"decision": "approve"})
    with web.runtime.db.transaction() as session:
        company = session.scalars(select(Company)).one()
        for n in range(2, MAX_ACCOUNTS + 1):
            account, _ = add_account(session, web.runtime.settings, company, f"user {n}", f"u{n}@midori.example")
        assert account.account_id == "C000001-999"
        with pytest.raises(TooManyAccounts):
            add_account(session, web.runtime.settings, company, "one too many", "x@midori.example")
        company_id = company.id
    answer = web.api("write").post(f"/api/companies/{company_id}/accounts", json={"name": "x", "email": "x@m.example"})
    assert answer.status_code == 409 and "999" in answer.json()["error"]


def test_public_posts_are_rate_limited(web: WebApp) -> None:
    browser = web.client()
    answers = [browser.post("/register", data={"csrf_token": "forged"}).status_code
               for _ in range(web.runtime.settings.public_form_limit + 1)]
    assert answers[:-1] == [403] * web.runtime.settings.public_form_limit and answers[-1] == 429


def test_the_api_starts_a_registration_and_a_confined_token_sees_none(web: WebApp) -> None:
    made = web.api("write").post("/api/registrations", json={"applicant_email": "ken@kita.example",
                                                             "company_name": "北海物産(株)", "language": "en"})
    assert made.status_code == 201 and made.json()["application_link"].startswith("http")
    assert made.json()["state"] == "requested" and made.json()["company_name"] == "北海物産(株)"
    assert [m.subject for m in mails(web, "registration_link")][0].startswith("[Torii]")
    confined = web.api("write", issuer="発行商事")
    assert confined.get(f"/api/registrations/{made.json()['id']}").status_code == 404
    assert confined.post("/api/registrations", json={"applicant_email": "a@b.example",
                                                     "company_name": "x"}).status_code == 403


def test_operators_follow_registrations_in_the_console_and_a_confined_one_sees_none(web: WebApp) -> None:
    registration_id, path = started(web, company="<script>x</script>食品")
    post_form(web.client(), path, {**APPLICATION, "company_name": "<script>x</script>食品"})
    web.operator("sato", role="viewer")
    web.operator("kitchen", role="viewer", issuer="発行商事")
    console = web.login("sato")
    listing = console.get("/registrations", params={"state": "applied"})
    assert listing.status_code == 200 and f"REG-{registration_id}" in listing.text
    assert "<script>x</script>" not in listing.text and "&lt;script&gt;" in listing.text
    detail = console.get(f"/registrations/{registration_id}")
    assert "apply: requested → applied" in detail.text and "sato@maru.example" in detail.text
    confined = web.login("kitchen")
    assert f"REG-{registration_id}" not in confined.get("/registrations").text
    assert confined.get(f"/registrations/{registration_id}").status_code == 404


def test_a_second_application_changes_nothing_and_an_existing_company_cannot_apply_again(web: WebApp) -> None:
    registration_id, first_approval = applied(web)
    with web.runtime.db.transaction() as session:
        reg = session.get(Registration, registration_id)
        assert reg is not None
        with pytest.raises(TransitionRefused, match="sent already"):
            registration.apply(session, web.runtime.settings, reg, {**APPLICATION, "admin_name": "別人"})
    with web.runtime.db.sessions() as session:
        reg = session.get(Registration, registration_id)
        assert reg is not None and reg.admin_name == "緑 花子" and reg.state == "applied"
    post_form(web.client(), applied(web)[1], {"decision": "approve"})  # みどり青果 has its company ID now
    _, path = started(web, company="全く別の名前")
    refused = post_form(web.client(), path, {**APPLICATION, "company_name": "(株)みどり青果"})
    assert refused.status_code == 422 and "すでに企業ID" in refused.text
    late = post_form(web.client(), first_approval, {"decision": "approve"})  # the other application won
    assert late.status_code == 409 and "has a company ID already" in late.text
