"""The company ID application by fax (manual 001): the blank form rendered, filled by hand, faxed, read, confirmed.

Real parts throughout: the form rendered by WeasyPrint, written in and degraded by samples.faxsim, read by
OpenCV and Tesseract, taken by the inbound pipeline into review, confirmed into a registration.
"""

from __future__ import annotations

import io
from functools import lru_cache

import pytest
from application_faxes import in_review
from PIL import Image
from sqlalchemy import select

from gateway import intake
from parsers.company_names import company_key
from parsers.imaging import pages_from_attachment
from samples.compose import SAMPLES
from samples.demo import fax_delivery
from samples.make_application_fax import APPLICATION, filled_fax
from samples.make_letters import DEMO_SECRET
from webapp import WebApp
from workflows.errors import InvalidRequest
from workflows.inbound import pipeline
from workflows.models import InboundMessage, InboundStatus, OutboundMessage
from workflows.registration import Company, Registration, application_fax
from workflows.registration.application_form import FORM, form_reference, render_application_form
from workflows.registration.applying import ApplicationRefused
from workflows.timeline import timeline


def page_of(pdf: bytes) -> Image.Image:
    [page] = pages_from_attachment(pdf, "application/pdf")
    return page


@lru_cache(maxsize=2)
def faxed(secret: bytes) -> bytes:
    return filled_fax(render_application_form(secret, language="ja"), APPLICATION)


def received(web: WebApp, pdf: bytes, tag: str) -> InboundMessage:
    """The fax delivered as a fax-to-email service mails it, stored by the intake and processed by the pipeline."""
    settings = web.runtime.settings
    raw = fax_delivery(pdf, f"{tag}@fax.example.net", settings.mail_domain)
    inbound_id = intake.store(web.runtime.db, raw, channel="smtp", mail_from="fax-service@fax.example.net",
                              rcpt_tos=[f"fax@{settings.mail_domain}"]).id
    pipeline.process(web.runtime.db, settings, inbound_id)
    with web.runtime.db.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        session.expunge(row)
        return row


def mails(web: WebApp, kind: str) -> list[OutboundMessage]:
    with web.runtime.db.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.kind == kind)))


def test_the_sample_fax_is_read_field_by_field_and_no_digit_is_guessed() -> None:
    page = page_of((SAMPLES / "registration" / "application.fax.ja.pdf").read_bytes())
    reading = application_fax.read_application(page, DEMO_SECRET)
    assert reading is not None and reading.reference == form_reference(DEMO_SECRET) and reading.language == "ja"
    assert set(reading.fields) == set(application_fax.KEYS)
    assert all(p.crop and Image.open(io.BytesIO(p.crop)).width > 20 for p in reading.fields.values())
    assert reading.fields["consent"].value == "yes"
    # typed-like Latin fields in block letters come back whole
    for key in ("company_phone", "fax_number", "wholesaler_email", "admin_email"):
        assert reading.fields[key].value == APPLICATION[key], key
    right = [k for k, p in reading.fields.items() if p.value == APPLICATION[k]]
    assert len(right) >= 8, right
    # the JAN maker code is the written digits, or nothing but a reason: never a wrong code
    jan = reading.fields["jan_maker_code"]
    assert jan.value == APPLICATION["jan_maker_code"] or (jan.confidence == 0.0 and jan.reason)


def test_a_form_without_consent_reads_so_and_a_forged_reference_is_not_our_form() -> None:
    unticked = filled_fax(render_application_form(DEMO_SECRET, language="en"), {**APPLICATION, "consent": ""})
    reading = application_fax.read_application(page_of(unticked), DEMO_SECRET)
    assert reading is not None and reading.fields["consent"].value == ""
    assert reading.language == "en" and reading.reference == form_reference(DEMO_SECRET, "en")
    forged = render_application_form(b"someone else's secret", language="ja")
    assert application_fax.read_application(page_of(faxed_blank(forged)), DEMO_SECRET) is None
    letter = (SAMPLES / "letters" / "invitation-1001-fax.ja.pdf").read_bytes()
    assert application_fax.read_application(page_of(letter), DEMO_SECRET) is None


def faxed_blank(pdf: bytes) -> bytes:
    return filled_fax(pdf, {})


def test_a_faxed_application_waits_for_an_operator_then_asks_the_wholesaler(web: WebApp) -> None:
    row = received(web, faxed(web.runtime.settings.secret_key), "app-1")
    assert row.status == InboundStatus.REVIEW and row.kind == application_fax.KIND
    assert row.reason == application_fax.REASON and row.object_type is None
    proposed = application_fax.proposals_of(row)
    assert proposed is not None and proposed["fields"]["admin_email"]["crop"]
    with web.runtime.db.sessions() as session:
        assert session.scalars(select(Registration)).first() is None  # the fax alone starts nothing
        assert len(application_fax.crops_of(session, row)) == len(application_fax.KEYS) + 1  # and the page

    with web.runtime.db.transaction() as session:
        found = session.get(InboundMessage, row.id)
        assert found is not None
        registration = application_fax.confirm(session, web.runtime.settings, found, APPLICATION)
        reg_id = registration.id
    with web.runtime.db.sessions() as session:
        reg = session.get(Registration, reg_id)
        assert reg is not None and reg.channel == "fax" and reg.state == "applied"
        assert reg.jan_maker_code == APPLICATION["jan_maker_code"] and reg.details["fax_number"] == "026-123-4568"
        message = session.get(InboundMessage, row.id)
        assert message is not None and message.status == InboundStatus.RESOLVED and message.object_id == reg_id
        events = timeline(session, "registration", reg_id)
        assert any(e.inbound_id == row.id and "confirmed by an operator" in e.summary for e in events)
    [ask] = mails(web, "registration_wholesaler_request")
    assert ask.to_addr == APPLICATION["wholesaler_email"]
    assert mails(web, "registration_link") == []  # the application is in hand: no link to apply on


@pytest.mark.parametrize("fields, problem", [
    ({"jan_maker_code": "451234"}, "7, 9 or 10 digits"),
    ({"admin_email": "kobayashi@gmail.com"}, "free-mail"),
])
def test_a_refused_application_keeps_nothing_unless_the_applicant_is_told(web: WebApp, fields: dict[str, str],
                                                                          problem: str) -> None:
    inbound_id = in_review(web)
    with pytest.raises(ApplicationRefused) as refused, web.runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        application_fax.confirm(session, web.runtime.settings, row, {**APPLICATION, **fields})
    assert any(problem in en for _ja, en in refused.value.problems), refused.value.problems
    with web.runtime.db.sessions() as session:
        assert session.scalars(select(Registration)).first() is None
        assert session.get(InboundMessage, inbound_id).status == InboundStatus.REVIEW  # type: ignore[union-attr]
    assert mails(web, "registration_fix") == []

    with web.runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        reg = application_fax.confirm(session, web.runtime.settings, row, {**APPLICATION, **fields},
                                      tell_applicant=True)
        assert reg.state == "requested" and row.status == InboundStatus.RESOLVED
    [fix] = mails(web, "registration_fix")
    assert fix.to_addr == (fields.get("admin_email") or APPLICATION["admin_email"]).lower()


def test_no_consent_or_no_address_cannot_be_confirmed(web: WebApp) -> None:
    inbound_id = in_review(web)
    for fields, why in (({"consent": ""}, "consent"), ({"admin_email": ""}, "email address is needed")):
        with pytest.raises(InvalidRequest, match=why), web.runtime.db.transaction() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            application_fax.confirm(session, web.runtime.settings, row, {**APPLICATION, **fields})


def test_the_form_prints_what_the_geometry_says() -> None:
    from parsers.faxform.reader import read_form

    blank = page_of(render_application_form(DEMO_SECRET, language="ja"))
    reading = read_form(blank, FORM, reference_check=lambda t: t == form_reference(DEMO_SECRET), read_fields=False)
    assert reading.located and reading.reference == form_reference(DEMO_SECRET)
    assert not any(f.written for f in reading.fields.values())


def test_a_company_that_has_an_id_is_answered_as_by_mail(web: WebApp) -> None:
    inbound_id = in_review(web)
    with web.runtime.db.transaction() as session:
        session.add(Company(code="C000077", name="信州りんご園合同会社", key=company_key("信州りんご園合同会社"),
                            jan_maker_code="4512345"))
    with web.runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        reg = application_fax.confirm(session, web.runtime.settings, row, {**APPLICATION,
                                                                           "company_name": "信州りんご園(同)"})
        assert (reg.state, reg.channel, row.status) == ("existing", "fax", InboundStatus.RESOLVED)
    [told] = mails(web, "registration_existing")
    assert told.to_addr == APPLICATION["admin_email"] and "C000077" in told.text
    assert mails(web, "registration_wholesaler_request") == []
