"""Fax out: number normalization, the spool and email-to-fax transports, transmission reports."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest

from gateway.fax import EmailToFaxTransport, FaxJobRequest, FaxSpoolTransport
from harness import CapturingTransport
from parsers.fax_numbers import BadFaxNumber, domestic_form, normalize_fax_number
from parsers.fax_report import FaxFailure, read_transmission_report
from workflows.faxes import next_attempt

PDF = b"%PDF-1.7\n% a letter\n%%EOF\n"


@pytest.mark.parametrize("text", [
    "03-1234-5678", "０３－１２３４－５６７８", "(03)1234-5678", "０３（１２３４）５６７８", "FAX: 03 1234 5678",
    "+81 3 1234 5678", "+81-(0)3-1234-5678", "0081312345678", "ＦＡＸ：０３１２３４５６７８",
])
def test_japanese_fax_numbers_in_any_writing_become_one_e164_number(text: str) -> None:
    assert normalize_fax_number(text) == "+81312345678"


def test_mobile_and_foreign_numbers_are_kept_whole() -> None:
    assert normalize_fax_number("090-1234-5678") == "+819012345678"
    assert normalize_fax_number("+1 (415) 555-0100") == "+14155550100"
    assert domestic_form("+81312345678") == "0312345678"


@pytest.mark.parametrize("text", ["", "03-1234", "12345678", "お問い合わせ", "03-1234-5678-9999"])
def test_text_that_is_no_fax_number_is_refused(text: str) -> None:
    with pytest.raises(BadFaxNumber):
        normalize_fax_number(text)


def test_the_spool_keeps_the_pdf_and_a_job_file(tmp_path: Path) -> None:
    ref = FaxSpoolTransport(tmp_path).send(FaxJobRequest(7, "+81312345678", PDF, "ご招待"))
    assert ref == "spool:fax-7"
    assert (tmp_path / "fax-7.pdf").read_bytes() == PDF
    job = json.loads((tmp_path / "fax-7.json").read_text(encoding="utf-8"))
    assert job["dial"] == "0312345678" and job["title"] == "ご招待"


def test_email_to_fax_mails_the_pdf_to_the_number_at_the_service() -> None:
    mail = CapturingTransport()
    fax = EmailToFaxTransport(mail, "fax.example.net", "fax@torii.test", "torii.test")
    assert fax.send(FaxJobRequest(12, "+81312345678", PDF, "ご招待")) == "fax-12@torii.test"
    (envelope,) = mail.sent
    assert envelope.rcpt_tos == ("0312345678@fax.example.net",)
    message = email.message_from_bytes(envelope.raw, policy=policy.default)
    assert "[FAX-12]" in str(message["Subject"])
    assert message["Auto-Submitted"] == "auto-generated"
    (attachment,) = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


@pytest.mark.parametrize(("subject", "text", "ok", "failure"), [
    ("[FAX-12] 送信結果", "FAX送信に成功しました。", True, None),
    ("Re: [FAX-12] ご招待", "送信結果：失敗（話中）", False, FaxFailure.BUSY),
    ("送信結果のお知らせ FAX-12", "相手先の応答がありませんでした。", False, FaxFailure.NO_ANSWER),
    ("Fax report FAX-12", "Transmission failed: invalid fax number", False, FaxFailure.BAD_NUMBER),
    ("Fax FAX-12 delivered", "Your fax was sent successfully (2 pages).", True, None),
    ("Fax FAX-12 not delivered", "Line busy after 3 tries.", False, FaxFailure.BUSY),
])
def test_transmission_reports_are_read_and_matched_to_their_job(subject: str, text: str, ok: bool,
                                                                 failure: FaxFailure | None) -> None:
    report = read_transmission_report(subject, text)
    assert report is not None
    assert (report.job_id, report.ok, report.failure) == (12, ok, failure)


def test_a_report_without_the_job_in_its_subject_is_matched_by_its_references() -> None:
    report = read_transmission_report("送信結果", "FAX送信完了", ("fax-31@torii.test",))
    assert report is not None and report.job_id == 31 and report.ok


def test_an_ordinary_mail_is_no_transmission_report() -> None:
    assert read_transmission_report("Re: ご招待", "承認します") is None


def test_busy_lines_are_retried_with_backoff_and_bad_numbers_never() -> None:
    waits = [next_attempt(n, FaxFailure.BUSY) for n in (1, 2, 3, 4)]
    assert waits[:3] == sorted(waits[:3]) and all(w is not None for w in waits[:3])
    assert waits[3] is None
    assert next_attempt(1, FaxFailure.BAD_NUMBER) is None
