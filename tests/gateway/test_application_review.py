"""The console's page for an application by fax: operators only, CSRF-guarded, what the partner wrote escaped,
and confirming it starts the registration; the blank form is public."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from application_faxes import in_review
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.delivery import send_fax
from gateway.fax import FaxSpoolTransport
from samples.make_application_fax import APPLICATION
from webapp import FORM_TOKEN, WebApp
from workflows.models import FaxJob, InboundMessage, InboundStatus, OutboundMessage
from workflows.registration import Registration
from workflows.registration.application_form import form_reference


def opened(web: WebApp, inbound_id: int) -> tuple[TestClient, str, str]:
    """An operator's browser on the application's page: the client, the page's path and its form token."""
    path = f"/messages/{inbound_id}/application"
    web.operator("ito")
    browser = web.login("ito")
    token = FORM_TOKEN.search(browser.get(path).text)
    assert token
    return browser, path, token.group(1)


def test_the_blank_form_is_public_in_both_languages_and_linked_from_the_start_page(web: WebApp) -> None:
    stranger = web.client()
    for query, word, language in (("", "企業ID申請書", "ja"), ("?lang=en", "Company ID application form", "en")):
        answer = stranger.get(f"/register/form.pdf{query}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        text = pypdfium2.PdfDocument(answer.content)[0].get_textpage().get_text_range()
        assert word in text and form_reference(web.runtime.settings.secret_key, language) in text.replace(" ", "")
    assert 'href="/register/form.pdf"' in stranger.get("/register").text


def test_only_an_operator_sees_the_page_and_a_post_needs_the_csrf_token(web: WebApp) -> None:
    inbound_id = in_review(web)
    path = f"/messages/{inbound_id}/application"
    assert web.client().get(path).status_code == 401
    web.operator("ito")
    browser = web.login("ito")
    assert browser.get(path).status_code == 200
    del browser.headers["X-CSRF-Token"]
    assert browser.post(path, data=APPLICATION).status_code == 403
    with web.runtime.db.sessions() as session:
        assert session.scalars(select(Registration)).first() is None
    assert browser.get(f"/messages/{inbound_id}").text.count(path) >= 1  # linked from the message
    assert f'href="{path}"' in browser.get("/review").text  # and from the review queue


def test_what_the_partner_wrote_is_shown_as_text(web: WebApp) -> None:
    inbound_id = in_review(web, company_name='<script>alert("x")</script>', wholesaler_contact="<b>加藤</b>")
    web.operator("ito")
    page = web.login("ito").get(f"/messages/{inbound_id}/application").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<b>加藤</b>" not in page and "&lt;b&gt;加藤&lt;/b&gt;" in page


def test_confirming_applies_and_a_refusal_shows_its_reasons_with_the_fields_kept(web: WebApp) -> None:
    inbound_id = in_review(web, admin_email="kobayashi@gmail.com")
    browser, path, token = opened(web, inbound_id)
    form = {**APPLICATION, "admin_email": "kobayashi@gmail.com", "csrf_token": token}
    refused = browser.post(path, data=form)
    assert refused.status_code == 422 and "gmail.com" in refused.text and 'id="tell-applicant"' in refused.text
    assert 'value="kobayashi@gmail.com"' in refused.text and 'value="北信食品卸株式会社"' in refused.text

    done = browser.post(path, data={**form, "admin_email": "kobayashi@ringo.example"})
    assert done.status_code == 303
    reg_id = int(done.headers["location"].rsplit("/", 1)[1])
    with web.runtime.db.sessions() as session:
        reg = session.get(Registration, reg_id)
        assert reg is not None and reg.channel == "fax" and reg.state == "applied"
        assert reg.admin_email == "kobayashi@ringo.example"
        assert session.get(InboundMessage, inbound_id).status == InboundStatus.RESOLVED  # type: ignore[union-attr]
        [ask] = session.scalars(select(OutboundMessage).where(
            OutboundMessage.kind == "registration_wholesaler_request")).all()
        assert ask.to_addr == APPLICATION["wholesaler_email"]
    again = browser.post(path, data=form)
    assert again.status_code == 422  # no longer in review: nothing more happens
    assert browser.get(f"/registrations/{reg_id}").status_code == 200


def test_a_form_without_an_address_is_answered_by_fax_to_the_number_written(web: WebApp, tmp_path: Path) -> None:
    inbound_id = in_review(web, admin_email="")
    browser, path, token = opened(web, inbound_id)
    form = {**APPLICATION, "admin_email": "", "csrf_token": token}
    refused = browser.post(path, data=form)
    assert refused.status_code == 422 and "email address is needed" in refused.text
    done = browser.post(path, data={**form, "fax_reply": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/messages/{inbound_id}"
    with web.runtime.db.sessions() as session:
        [job] = session.scalars(select(FaxJob)).all()
        assert job.kind == "registration_fax_reply" and job.number.endswith("261234568")
        assert job.object_type == "inbound" and job.object_id == inbound_id
        text = pypdfium2.PdfDocument(job.pdf)[0].get_textpage().get_text_range()
        assert "メールアドレス" in text and APPLICATION["company_name"] in text.replace(" ", "")
        assert session.get(InboundMessage, inbound_id).status == InboundStatus.RESOLVED  # type: ignore[union-attr]
        assert session.scalars(select(Registration)).first() is None
    spool = FaxSpoolTransport(tmp_path / "fax")
    send_fax(web.runtime.db, web.runtime.settings, spool, job.id)  # as the delivery actor does
    with web.runtime.db.sessions() as session:
        assert session.get(FaxJob, job.id).status == "sent"  # type: ignore[union-attr]
