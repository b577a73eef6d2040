"""The console in a real browser: Debian's chromium, headless, driven by Selenium, against ``torii up``.

An operator logs in, opens the review queue, corrects a faxed order's product and quantity, accepts
it, and finds the order placed and the confirmation in the outbox; a viewer has no accept button
(and is refused if it posts anyway); another buyer's operator finds nothing. The main screens are
saved to docs/screenshots/ as they are reached.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from harness import REPO, GatewayProcess, fax_delivery, gateway_env, private_database, sample_shop, wait_for
from samples import fax_orders as samples
from webhook_receiver import webhook_receiver
from workflows import clock

pytestmark = pytest.mark.slow

SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
PASSWORD = "a password long enough"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GatewayProcess]:
    home = tmp_path_factory.mktemp("browser-gateway")
    with private_database(home) as database_url:
        gw = GatewayProcess(home, gateway_env(home, database_url, redis_url)).start()
        try:
            yield gw
        finally:
            assert gw.stop() == 0, gw.log_tail()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail("chromium and chromium-driver are not installed: ./torii test installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1440,1100", "--lang=ja-JP", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def url(gw: GatewayProcess, path: str) -> str:
    return f"http://127.0.0.1:{gw.http_port}{path}"


def wait(driver: WebDriver, timeout: float = 15) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, timeout)


def log_in(driver: WebDriver, gw: GatewayProcess, name: str, *, then: str = "/",
           screenshot: str | None = None) -> None:
    driver.delete_all_cookies()
    driver.get(url(gw, then))  # not logged in: the login form, which comes back here
    wait(driver).until(expected_conditions.presence_of_element_located((By.ID, "name")))
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    if screenshot:
        save(driver, screenshot)
    driver.find_element(By.ID, "login").click()
    wait(driver).until(expected_conditions.presence_of_element_located((By.ID, "logout")))


def save(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Full page: as tall as the content, so that the picture shows the whole screen.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1440, max(900, min(int(height) + 40, 3000)))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1440, 1100)


def faxed_order_needing_review(gw: GatewayProcess, number: str, seed: int) -> tuple[dict[str, Any], Any]:
    """A fax from the buyer at ``number`` whose first item is written so no product matches it."""
    truth = samples.make_order(random.Random(seed), "ruled", received_at=clock.now(), line_count=3)
    unknown = dataclasses.replace(truth.lines[0], written="特製 だし醤油 1L")
    truth = dataclasses.replace(truth, lines=(unknown, *truth.lines[1:]))
    fax_delivery(gw, samples.render_pdf(truth, random.Random(seed)), f"fax-{seed}.pdf", "application/pdf", number)

    def in_review() -> dict[str, Any] | None:
        found = [f for f in gw.api("GET", "/api/fax-orders") if f["sender_fax"] == samples.e164(number)
                 and f["state"] != "received"]
        return found[0] if found else None

    fax_order = wait_for(in_review, 120, 0.3, f"the fax from {number} to be read")
    assert fax_order["state"] == "needs_review", fax_order
    return fax_order, truth


def test_an_operator_corrects_a_faxed_order_a_viewer_cannot_and_another_buyer_sees_nothing(
        gateway: GatewayProcess, browser: WebDriver) -> None:
    gw = gateway
    number = f"03-44{uuid.uuid4().int % 100:02d}-{uuid.uuid4().int % 10000:04d}"
    buyer, supplier = sample_shop(gw, number)
    other, _ = sample_shop(gw, f"03-45{uuid.uuid4().int % 100:02d}-{uuid.uuid4().int % 10000:04d}")
    gw.make_operator("sato", "operator", PASSWORD, buyer_id=buyer["id"])
    gw.make_operator("mori", "viewer", PASSWORD, buyer_id=buyer["id"])
    gw.make_operator("tanaka", "operator", PASSWORD, buyer_id=other["id"])
    fax_order, truth = faxed_order_needing_review(gw, number, seed=11)
    products = {p["name"]: p["id"] for p in gw.api("GET", f"/api/suppliers/{supplier['id']}")["products"]}
    meant = truth.lines[0].product

    # The viewer sees the fax order, without the button, and a forged post is refused.
    log_in(browser, gw, "mori", then=f"/fax-orders/{fax_order['id']}")
    assert f"FAX-{fax_order['id']}" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.ID, "accept-button") == []
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"window.torii.postJson('/api/fax-orders/{fax_order['id']}/accept', {{}}).then((r) => done(r.status));")
    assert status == 403
    assert gw.api("GET", f"/api/fax-orders/{fax_order['id']}")["state"] == "needs_review"

    # Another buyer's operator: the fax order does not exist for it, nor in its queue.
    log_in(browser, gw, "tanaka", then=f"/fax-orders/{fax_order['id']}")
    assert "見つかりません / Not found" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(url(gw, "/review"))
    assert f"FAX-{fax_order['id']}" not in browser.find_element(By.TAG_NAME, "main").text

    # The operator: log in, the queue, the fax order.
    log_in(browser, gw, "sato", then="/review", screenshot="login")
    queue = browser.find_element(By.TAG_NAME, "main").text
    assert f"FAX-{fax_order['id']}" in queue
    save(browser, "review-queue")
    browser.find_element(By.CSS_SELECTOR, f"a[href='/fax-orders/{fax_order['id']}']").click()
    wait(browser).until(expected_conditions.presence_of_element_located((By.ID, "accept-button")))
    save(browser, "fax-order-review")

    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-position]")
    assert len(rows) == 3
    # The product no reading matched, picked by hand; the second line's product confirmed, its quantity changed.
    for row, line in zip(rows[:2], truth.lines, strict=False):
        Select(row.find_element(By.CSS_SELECTOR, "select[name=product]")).select_by_value(str(products[line.product]))
    quantity = rows[1].find_element(By.CSS_SELECTOR, "input[name=quantity]")
    quantity.clear()
    quantity.send_keys("7")
    browser.find_element(By.ID, "accept-button").click()
    wait(browser, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "a[href^='/orders/']")))

    # What the gateway did with it.
    accepted = gw.api("GET", f"/api/fax-orders/{fax_order['id']}")
    assert accepted["state"] in ("accepted", "confirmation_sent") and accepted["order"], accepted
    order = gw.api("GET", f"/api/orders/{accepted['order']['id']}")
    assert [(line["product_id"], Decimal(line["quantity"])) for line in order["lines"]][:2] == [
        (products[meant], truth.lines[0].quantity), (products[truth.lines[1].product], 7)]
    assert any(e["actor"] == "operator:sato" for e in accepted["timeline"]), accepted["timeline"]
    # The buyer faxed, so the confirmation goes back by fax.
    confirmation = wait_for(lambda: [f for f in gw.api("GET", "/api/fax", params={
        "object_type": "fax_order", "object_id": fax_order["id"]}) if f["kind"] == "fax_order_confirmation"],
        30, 0.3, "the confirmation")
    browser.find_element(By.CSS_SELECTOR, "a[href^='/orders/']").click()
    wait(browser).until(expected_conditions.title_contains(order["number"]))
    assert meant in browser.find_element(By.TAG_NAME, "main").text
    save(browser, "order")
    browser.get(url(gw, "/outbox"))
    assert confirmation[0]["title"] in browser.find_element(By.TAG_NAME, "main").text
    save(browser, "outbox")


def test_an_admin_sends_a_refused_webhook_again_from_the_console(gateway: GatewayProcess, browser: WebDriver
                                                                 ) -> None:
    gw = gateway
    gw.make_operator("root", "admin", PASSWORD)
    with webhook_receiver(answers=[503] * 3) as receiver:
        receiver.secret = gw.api("POST", "/api/webhooks/endpoints", json={
            "url": receiver.url, "event_types": ["registration.*"], "description": "ERP"})["secret"]
        made = gw.api("POST", "/api/registrations", json={"applicant_email": "ken@kita.example",
                                                          "company_name": "北海物産"})
        link = made["application_link"]
        # The applicant fills the application in the browser.
        browser.delete_all_cookies()
        browser.get(link)
        fields = {"company_address": "北海道札幌市1-1", "company_phone": "011-000-0000",
                  "jan_maker_code": "4512345", "wholesaler_company": "北卸株式会社",
                  "wholesaler_department": "食品部", "wholesaler_contact": "伊藤",
                  "wholesaler_email": "ito@kitaoroshi.example", "admin_name": "北 健",
                  "admin_email": "admin@kita.example"}
        for name, value in fields.items():
            browser.find_element(By.ID, name).send_keys(value)
        browser.find_element(By.ID, "agree").click()
        save(browser, "registration-form")
        browser.find_element(By.ID, "apply").click()
        wait(browser).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
        assert "申請を受け付けました" in browser.find_element(By.TAG_NAME, "main").text
        receiver.wait(1, "registration.applied")

        log_in(browser, gw, "root", then="/webhooks")
        wait(browser, 30).until(lambda d: "retrying" in d.find_element(By.TAG_NAME, "main").text or d.refresh())
        save(browser, "webhooks")
        with receiver.lock:
            receiver.answers.clear()
        browser.find_element(By.CSS_SELECTOR, "table.deliveries button[type=submit]").click()
        wait(browser).until(expected_conditions.presence_of_element_located((By.ID, "send-again")))
        received = receiver.wait(2, "registration.applied", timeout=30)
    assert all(r.verified for r in received) and len({r.webhook_id for r in received}) == 1
    assert received[-1].answered == 200
    assert made["id"] == received[-1].payload["data"]["id"]
