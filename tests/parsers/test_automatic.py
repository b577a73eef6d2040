"""classify_automatic: bounces, auto-replies and list mail are told apart from personal replies."""

from __future__ import annotations

from email.mime.text import MIMEText

import pytest

from parsers.automatic import MailKind, classify_automatic
from parsers.mime.parse import parse_mail
from parsers.mime.parsed_mail import ParsedMail


def mail(body: str = "承認します", subject: str = "Re: ご招待", sender: str = "yamada@partner.example",
         **extra: str) -> ParsedMail:
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = sender
    msg["To"] = "reply+abc@torii.example"
    msg["Subject"] = subject
    for name, value in extra.items():
        msg[name.replace("_", "-")] = value
    return parse_mail(msg.as_bytes())


def test_a_partners_reply_is_personal() -> None:
    verdict = classify_automatic(mail(), "yamada@partner.example")
    assert verdict.kind == MailKind.PERSONAL


def test_a_delivery_status_notification_is_a_bounce_even_when_marked_auto_replied() -> None:
    raw = (b"From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nAuto-Submitted: auto-replied\r\n"
           b"Subject: Undelivered Mail Returned to Sender\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
           b"--r\r\nContent-Type: text/plain\r\n\r\nsorry\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
           b"Reporting-MTA: dns; mx.example\r\n\r\nAction: failed\r\n--r--\r\n")
    verdict = classify_automatic(parse_mail(raw), "")
    assert verdict.kind == MailKind.BOUNCE
    assert verdict.reason == "delivery status notification (multipart/report)"


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.partner.example", "postmaster@partner.example"])
def test_mail_from_a_mailer_daemon_is_a_bounce(sender: str) -> None:
    assert classify_automatic(mail("Your message was not delivered", subject="failure", sender=sender)).kind \
        == MailKind.BOUNCE


@pytest.mark.parametrize("subject", ["Undeliverable: ご招待", "Returned mail: User unknown",
                                     "Delivery Status Notification (Failure)", "Mail delivery failed",
                                     "配信不能: ご招待", "【未配達】ご招待"])
def test_non_standard_bounce_subjects_are_bounces(subject: str) -> None:
    assert classify_automatic(mail("...", subject=subject, sender="system@partner.example")).kind == MailKind.BOUNCE


def test_a_person_replying_about_a_bounce_is_still_personal() -> None:
    assert classify_automatic(mail(subject="Re: Undeliverable: ご招待")).kind == MailKind.PERSONAL


def test_a_null_envelope_sender_without_other_signs_is_a_bounce() -> None:
    verdict = classify_automatic(mail(), "")
    assert verdict.kind == MailKind.BOUNCE
    assert verdict.reason == "null envelope sender (<>)"
    assert classify_automatic(mail(Return_Path="<>")).kind == MailKind.BOUNCE


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"Auto_Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"X_Autoreply": "yes"}, "X-Autoreply: yes"),
        ({"Precedence": "auto_reply"}, "Precedence: auto_reply"),
    ],
)
def test_auto_reply_headers_make_an_auto_reply(headers: dict[str, str], reason: str) -> None:
    verdict = classify_automatic(mail("ただいま不在にしております。承認などは後日。", **headers), "")
    assert verdict.kind == MailKind.AUTO_REPLY
    assert verdict.reason == reason


def test_auto_submitted_no_is_a_person() -> None:
    assert classify_automatic(mail(Auto_Submitted="no")).kind == MailKind.PERSONAL


@pytest.mark.parametrize("subject", ["自動応答: Re: ご招待", "【不在】Re: ご招待", "Out of Office: ご招待",
                                     "Automatic reply: Invitation", "AutoReply: hello", "Read: ご招待",
                                     "開封済み: ご招待"])
def test_auto_reply_subjects_make_an_auto_reply(subject: str) -> None:
    assert classify_automatic(mail("不在です", subject=subject)).kind == MailKind.AUTO_REPLY


def test_read_receipts_and_feedback_reports_are_auto_replies() -> None:
    for report_type in ("disposition-notification", "feedback-report"):
        raw = (f"From: a@partner.example\r\nContent-Type: multipart/report; report-type={report_type}; "
               f"boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nseen\r\n--r--\r\n").encode()
        assert classify_automatic(parse_mail(raw)).kind == MailKind.AUTO_REPLY


@pytest.mark.parametrize("headers", [{"Precedence": "bulk"}, {"Precedence": "list"}, {"Precedence": "junk"},
                                     {"List_Id": "<news.partner.example>"},
                                     {"List_Unsubscribe": "<mailto:leave@partner.example>"}])
def test_list_and_bulk_mail_is_bulk(headers: dict[str, str]) -> None:
    assert classify_automatic(mail(**headers), "news@partner.example").kind == MailKind.BULK
