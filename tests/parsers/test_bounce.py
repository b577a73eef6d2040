"""read_bounce: delivery reports of every common shape are read, and matched to the message they answer.

Standard reports are built here with the stdlib around a real outbound mail of ours;
real-world bounces come from the shared corpus (read where it lies, never copied).
"""

from __future__ import annotations

from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from pathlib import Path

import pytest

from parsers import bounce
from parsers.automatic import MailKind, classify_automatic
from parsers.bounce import BounceReport, read_bounce
from parsers.mime.parse import parse_mail
from workflows.mail import RenderedMail, build_mime

DOMAIN = "torii.test"
TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OUR_ID = f"{TOKEN}@{DOMAIN}"
VERP = f"bounce+{TOKEN}@{DOMAIN}"
PARTNER = "yamada@partner.example"


def our_mail(message_id: str = OUR_ID, to: str = PARTNER) -> bytes:
    return build_mime(from_addr=f"reply+abc@{DOMAIN}", from_name="発行商事", to_addr=to, to_name="山田",
                      reply_to=f"reply+abc@{DOMAIN}", message_id=message_id,
                      rendered=RenderedMail("ご招待", "山田様\nご招待申し上げます。\n", "<p>ご招待</p>"))


def dsn(*recipients: dict[str, str], original: bytes | None = None, headers_only: bool = False,
        human: str = "Your message could not be delivered.\n") -> bytes:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.partner.example>"
    report["To"] = VERP
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText(human, "plain", "us-ascii"))
    status = Message()
    status.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.partner.example"
    blocks: list[Message | str] = [per_message]
    for fields in recipients:
        block = Message()
        for name, value in fields.items():
            block[name] = value
        blocks.append(block)
    status.set_payload(blocks)
    del status["MIME-Version"]
    report.attach(status)
    if original is not None:
        if headers_only:
            part = MIMEText(header_section(original) + "\n", "rfc822-headers", "us-ascii")
            report.attach(part)
        else:
            report.attach(MIMEMessage(parse_mail_message(original)))
    return report.as_bytes(policy=compat32)


def header_section(raw: bytes) -> str:
    return raw.decode().replace("\r\n", "\n").split("\n\n", 1)[0]


def parse_mail_message(raw: bytes) -> Message:
    from email import message_from_bytes

    return message_from_bytes(raw, policy=compat32)


def text_bounce(body: str, subject: str = "failure notice", charset: str = "us-ascii", **headers: str) -> bytes:
    msg = MIMEText(body, "plain", charset)
    msg["From"] = "MAILER-DAEMON@mx.partner.example"
    msg["To"] = VERP
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg.as_bytes(policy=compat32)


def read(raw: bytes, rcpt_tos: tuple[str, ...] = (VERP,)) -> BounceReport:
    return read_bounce(parse_mail(raw), rcpt_tos, DOMAIN)


# -- RFC 3464 ------------------------------------------------------------------------------------

def test_a_report_names_our_message_the_recipient_and_why_it_failed() -> None:
    report = read(dsn({"Final-Recipient": f"rfc822; {PARTNER}", "Action": "failed", "Status": "5.1.1",
                       "Diagnostic-Code": "smtp; 550 5.1.1 <yamada@partner.example>: Recipient address rejected:\n"
                                          " User unknown in local recipient table"},
                      original=our_mail()))
    assert report == BounceReport(
        original_message_ids=(OUR_ID,), verp_tokens=(TOKEN,), recipients=(PARTNER,), status="5.1.1",
        action="failed",
        diagnostic="550 5.1.1 <yamada@partner.example>: Recipient address rejected: User unknown in local "
                   "recipient table",
        permanent=True, shape="rfc3464")
    assert report.is_failure and not report.is_warning


def test_a_report_with_only_the_original_headers_still_names_our_message() -> None:
    report = read(dsn({"Final-Recipient": f"RFC822; <{PARTNER.upper()}>", "Action": "failed", "Status": "5.2.2"},
                      original=our_mail(), headers_only=True), rcpt_tos=())
    assert report.original_message_ids == (OUR_ID,) and report.recipients == (PARTNER,)
    assert report.verp_tokens == (TOKEN,)  # no envelope: taken from the report's To header
    assert report.permanent


def test_a_delay_notice_is_soft_and_only_a_warning() -> None:
    report = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Action": "delayed", "Status": "4.4.7",
                       "Diagnostic-Code": "smtp; 451 4.4.7 timeout"}, original=our_mail()))
    assert (report.status, report.action, report.permanent, report.is_warning) == ("4.4.7", "delayed", False, True)


def test_a_4xx_status_is_soft_and_a_5xx_status_is_permanent_without_an_action() -> None:
    soft = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Status": "4.2.2"}))
    hard = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Status": "5.1.1"}))
    assert (soft.permanent, hard.permanent) == (False, True)


def test_an_mta_that_gave_up_is_final_even_on_a_4xx_status() -> None:
    # Action: failed means the reporting MTA stopped trying; the mail will not arrive.
    report = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Action": "failed", "Status": "4.2.2"}))
    assert report.permanent and report.status == "4.2.2"


def test_a_success_notice_is_not_a_failure() -> None:
    report = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Action": "relayed", "Status": "2.0.0"}))
    assert not report.is_failure and not report.permanent


def test_several_recipients_are_listed_and_the_failed_one_speaks() -> None:
    report = read(dsn({"Final-Recipient": "rfc822;ok@partner.example", "Action": "delivered", "Status": "2.0.0"},
                      {"Final-Recipient": f"rfc822;{PARTNER}", "Action": "failed", "Status": "5.2.1",
                       "Diagnostic-Code": "smtp; 550 5.2.1 mailbox disabled"}))
    assert report.recipients == ("ok@partner.example", PARTNER)
    assert (report.status, report.diagnostic, report.permanent) == ("5.2.1", "550 5.2.1 mailbox disabled", True)


def test_a_status_field_with_an_explanation_keeps_the_code() -> None:
    report = read(dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Action": "failed",
                       "Status": "5.0.0 (permanent failure)"}))
    assert report.status == "5.0.0"


# -- VERP ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rcpt", "token"), [
    (VERP, TOKEN),
    (VERP.upper(), TOKEN),  # some MTAs upper-case the address they answer; our tokens are lower-case hex
    (f"<{VERP}>", TOKEN),
    (f"bounce+{TOKEN}@other.example", None),
    (f"reply+{TOKEN}@{DOMAIN}", None),
    (f"bounce+{TOKEN}=partner.example@{DOMAIN}", None),  # somebody else's VERP scheme
])
def test_the_envelope_recipient_carries_the_token(rcpt: str, token: str | None) -> None:
    report = read(text_bounce("Delivery failed."), rcpt_tos=(rcpt,))
    assert report.verp_tokens == ((token,) if token else ())


def test_without_an_envelope_the_token_is_read_from_delivered_to() -> None:
    raw = b"Delivered-To: " + VERP.encode() + b"\n" + text_bounce("failed", To="someone@elsewhere.example")
    assert read(raw, rcpt_tos=()).verp_tokens == (TOKEN,)


def test_an_envelope_overrides_the_headers() -> None:
    raw = b"Delivered-To: " + VERP.encode() + b"\n" + text_bounce("failed")
    assert read(raw, rcpt_tos=(f"postmaster@{DOMAIN}",)).verp_tokens == ()


# -- non-standard shapes -------------------------------------------------------------------------

QUOTED_ORIGINAL = our_mail().decode().replace("\r\n", "\n")
QUOTED_HEADERS = header_section(our_mail())


def test_qmail() -> None:
    report = read(text_bounce(
        "Hi. This is the qmail-send program at mx.partner.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{PARTNER}>:\n192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 No such user\n"
        "Giving up on 192.0.2.1.\n\n--- Below this line is a copy of the message.\n\n" + QUOTED_ORIGINAL,
        charset="utf-8"))
    assert (report.shape, report.recipients, report.status, report.permanent) == ("qmail", (PARTNER,), "5.1.1", True)
    assert report.original_message_ids == (OUR_ID,)
    assert report.diagnostic == "192.0.2.1 does not like recipient. Remote host said: 550 5.1.1 No such user " \
                                "Giving up on 192.0.2.1."


def test_qmail_temporary_failure_is_soft() -> None:
    report = read(text_bounce(
        "Hi. This is the qmail-send program at mx.partner.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        f"<{PARTNER}>:\nConnected to 192.0.2.1 but sender was rejected.\n"
        "Remote host said: 421 4.7.0 Try again later (#4.4.2)\n"))
    assert (report.status, report.permanent) == ("4.7.0", False)


def test_postfix_without_a_report_part() -> None:
    report = read(text_bounce(
        "This is the mail system at host mx.partner.example.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "                   The mail system\n\n"
        f"<{PARTNER}>: host mx2.partner.example[192.0.2.2] said: 550 5.1.1\n"
        f"    <{PARTNER}>: Recipient address rejected: User unknown (in reply to RCPT TO\n    command)\n\n"
        "--- Undelivered message headers follow ---\n" + QUOTED_HEADERS + "\n",
        subject="Undelivered Mail Returned to Sender"))
    assert (report.shape, report.recipients, report.status, report.permanent) == (
        "postfix", (PARTNER,), "5.1.1", True)
    assert report.diagnostic is not None and report.diagnostic.startswith("host mx2.partner.example[192.0.2.2] said:")
    assert report.original_message_ids == (OUR_ID,)


def test_exim() -> None:
    report = read(text_bounce(
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {PARTNER}\n"
        f"    host mx.partner.example [192.0.2.3]: 550 5.1.1 <{PARTNER}>: Recipient address rejected\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n" + QUOTED_ORIGINAL,
        charset="utf-8", subject="Mail delivery failed: returning message to sender"))
    assert (report.shape, report.recipients, report.status, report.permanent) == ("exim", (PARTNER,), "5.1.1", True)
    assert report.original_message_ids == (OUR_ID,)


def test_office_365_non_delivery_report_in_text() -> None:
    report = read(text_bounce(
        f"Your message to {PARTNER} couldn't be delivered.\n"
        "yamada wasn't found at partner.example.\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: TY2PR01MB0000.jpnprd01.prod.outlook.com\n\n"
        f"{PARTNER}\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by "
        "SMTP address lookup'\n\nOriginal message headers:\n\n" + QUOTED_HEADERS + "\n",
        charset="utf-8", subject="Undeliverable: ご招待", In_Reply_To=f"<{OUR_ID}>"), rcpt_tos=())
    assert (report.shape, report.recipients, report.status, report.permanent) == (
        "exchange", (PARTNER,), "5.1.10", True)
    assert report.diagnostic == "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    assert report.original_message_ids == (OUR_ID,)


def test_a_japanese_bounce_in_iso_2022_jp_saying_the_address_does_not_exist() -> None:
    body = ("以下の宛先へのメールは配信できませんでした。\n\n"
            f"宛先: {PARTNER}\n理由: 宛先のメールアドレスは存在しません。\n\n"
            "----- 元のメッセージ -----\n" + QUOTED_HEADERS + "\n")
    report = read(text_bounce(body, subject="配信エラー", charset="iso-2022-jp"))
    assert (report.shape, report.recipients, report.status, report.permanent) == ("text", (PARTNER,), None, True)
    assert report.diagnostic == "理由: 宛先のメールアドレスは存在しません。"
    assert report.original_message_ids == (OUR_ID,)


def test_a_carrier_bounce_saying_the_mailbox_is_full_is_soft() -> None:
    report = read(text_bounce(f"Your mail sent to <{PARTNER}> could not be delivered.\n"
                              "As their mailbox is full.\n", subject="Mail System Error - Returned Mail"))
    assert (report.recipients, report.permanent) == ((PARTNER,), False)


def test_user_unknown_in_words_alone_is_permanent() -> None:
    report = read(text_bounce(f"{PARTNER}\nUser unknown\n"))
    assert (report.recipients, report.status, report.permanent) == ((PARTNER,), None, True)


def test_vague_words_alone_are_soft() -> None:
    report = read(text_bounce(f"{PARTNER}\nYour message could not be delivered at this time.\n"))
    assert not report.permanent


def test_a_sendmail_warning_is_soft() -> None:
    report = read(text_bounce(
        "    **********************************************\n"
        "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
        "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
        "    **********************************************\n\n"
        "   ----- Transcript of session follows -----\n"
        f"<{PARTNER}>... Deferred: Connection timed out with mx.partner.example.\n"
        "Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n"))
    assert (report.shape, report.recipients, report.permanent, report.action) == (
        "sendmail", (PARTNER,), False, "delayed")


def test_message_ids_of_other_domains_are_not_taken_from_free_text() -> None:
    quoted = QUOTED_ORIGINAL.replace(OUR_ID, "somebody@else.example")
    report = read(text_bounce(f"<{PARTNER}>: 550 no such user\n\n--- original message follows\n" + quoted,
                              charset="utf-8"), rcpt_tos=())
    assert report.original_message_ids == ()


def test_an_attached_original_of_another_domain_is_reported_after_ours() -> None:
    raw = dsn({"Final-Recipient": f"rfc822;{PARTNER}", "Action": "failed", "Status": "5.1.1"},
              original=our_mail("deadbeef@Mail.Partner.Example"), human=f"Message-ID: <{OUR_ID}>\n")
    assert read(raw).original_message_ids == (OUR_ID, "deadbeef@mail.partner.example")


# -- never raises ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 50, b"Content-Type: message/delivery-status\n\n\n\n",
                                 b"Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: "
                                 b"message/delivery-status\n\nStatus: 9.9.9\nAction:\n\n--x--\n",
                                 b"Subject: x\n\n" + b"<a@b.c>:\n" * 5000])
def test_odd_input_gives_a_report_not_an_exception(raw: bytes) -> None:
    assert isinstance(read(raw), BounceReport)


def test_a_reader_bug_still_returns_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object) -> BounceReport:
        raise RuntimeError("bug")

    monkeypatch.setattr(bounce._Reader, "read", broken)
    report = read(text_bounce("x"))
    assert (report.shape, report.verp_tokens, report.permanent) == ("unreadable", (TOKEN,), False)


# -- the shared corpus --------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared mail corpus is not at {CORPUS}")


# Read by hand from each file: (recipient, status, permanent, shape, bytes naming the original's
# Message-ID or None, that Message-ID as read_bounce reports it).
CORPUS_BOUNCES: dict[str, tuple[str, str | None, bool, str, bytes | None, str | None]] = {
    "torture/sisimai__rfc3464-01.eml": (
        "userunknown@bouncehammer.jp", "5.1.1", True, "rfc3464",
        b"<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>", "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"),
    "torture/sisimai__rfc3464-03.eml": (
        "kijitora@example.com", "5.0.0", True, "rfc3464",
        b"<220000000022.0000.0000000000000000222@NEKO.NYAAN>", "220000000022.0000.0000000000000000222@neko.nyaan"),
    "torture/sisimai__lhost-postfix-01.eml": ("r@p351355.pool.example.ne.jp", "5.1.1", True, "rfc3464", None, None),
    "torture/sisimai__lhost-qmail-01.eml": (
        "kijitora@example.ne.jp", "5.5.0", True, "qmail",
        b"<000000000.9999999999999.JavaMail.postmaster@mailhub>", None),  # quoted in text: ours only
    "torture/sisimai__CRLF_lhost-exchange2007-01.eml": ("mikeneko@example.co.jp", "5.1.1", True, "rfc3464",
                                                        None, None),
    "torture/sisimai__rb-issue-368-bug.eml": (
        "xxxx@yyyyyy.net", None, False, "text", b"<68e0b7e3615cd_1dc7010592ed@7cf4d87f87-9r5w2.mail>", None),
    "torture/mailgem__report_530.eml": (
        "edwin@zzzzzzz.com", "5.3.0", True, "rfc3464",
        b"<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>", "200712232303.lBNN3jDq002941@mail12.rrrr.com.au"),
    "torture/mailgem__multipart_report_multiple_status.eml": (
        "u@ci.com", "5.3.0", True, "rfc3464",
        b"<4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail>", "4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail"),
    "torture/mailgem__raw_email_with_mimepart_without_content_type.eml": (
        "larose.julie@courrier.uqam.ca", "4.5.0", False, "rfc3464",
        b"<89d7557c0610181510r6fa5ebd8n66a7deec71ade118@mail.gmail.com>",
        "89d7557c0610181510r6fa5ebd8n66a7deec71ade118@mail.gmail.com"),
    "torture/mimekit__delivery-status-multiple-blank-lines.txt": ("orig_recip@customer.com", "5.5.0", True,
                                                                   "rfc3464", None, None),
    "torture/flanker__delayed-broken.eml": ("demo@example.com", "4.2.2", True, "rfc3464", None, None),
    "ja/jpmobile__bounced-jp.eml": (
        "unknown@docomo.ne.jp", "5.0.0", True, "rfc3464",
        b"<502e4f8c8dc0a_1ed1cbf30467885@mail>", "502e4f8c8dc0a_1ed1cbf30467885@mail"),
    "ja/sisimai__lhost-biglobe-01.eml": (
        "postmaster@mxr.biglobe.ne.jp", None, False, "sendmail",
        b"<000000000000000000000000000000@example.com>", "000000000000000000000000000000@example.com"),
    "ja/sisimai__lhost-exchange2007-04.eml": (
        "neko-nyaan@example.jp", "5.7.1", True, "rfc3464",
        b"<78f44d2b2ea5763064d21edacd9d8d18@example.net>", "78f44d2b2ea5763064d21edacd9d8d18@example.net"),
    "ja/sisimai__lhost-ezweb-02.eml": (
        "this-local-part-does-not-exist-on-the-server@ezweb.ne.jp", "5.0.0", True, "rfc3464",
        b"<20110000000000.F000000@lsean.ezweb.ne.jp>", "20110000000000.F000000@lsean.ezweb.ne.jp"),
    "ja/sisimai__lhost-mfilter-01.eml": ("kijitora@example.com", None, True, "text",
                                         b"<000000000000000@exmaple.com>", None),
    "ja/sisimai__lhost-notes-01.eml": ("kijitora@u1.example.co.jp", None, False, "text",
                                       b"<000000000.0000000000000.notes@example.co.jp>", None),
    "ja/sisimai__lhost-postfix-09.eml": ("kijitora@example.ne.jp", "4.3.2", True, "rfc3464",
                                         b"Message-ID: 20140913142357", "20140913142357"),
    "ja/sisimai__lhost-sendmail-51.eml": (
        "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp", "5.2.0", True, "rfc3464",
        b"<DB0F5BDF-661C-4AC2-980F-7447745D478A@neko.example.co.jp>",
        "DB0F5BDF-661C-4AC2-980F-7447745D478A@neko.example.co.jp"),
}


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared corpus at {CORPUS}")
    return path.read_bytes()


@needs_corpus
@pytest.mark.parametrize("name", sorted(CORPUS_BOUNCES))
def test_a_real_bounce_gives_its_recipient_status_and_original(name: str) -> None:
    recipient, status, permanent, shape, _, their_id = CORPUS_BOUNCES[name]
    report = read(corpus_bytes(name), rcpt_tos=())
    assert recipient in report.recipients
    assert (report.status, report.permanent, report.shape) == (status, permanent, shape)
    if their_id is not None:
        assert their_id in report.original_message_ids


@needs_corpus
@pytest.mark.parametrize("name", sorted(n for n, v in CORPUS_BOUNCES.items() if v[4] is not None))
def test_a_real_bounce_of_one_of_our_messages_is_matched_to_it(name: str) -> None:
    needle = CORPUS_BOUNCES[name][4]
    assert needle is not None
    raw = corpus_bytes(name)
    assert needle in raw
    ours = b"Message-ID: <" + OUR_ID.encode() + b">" if needle.startswith(b"Message-ID:") else f"<{OUR_ID}>".encode()
    report = read(raw.replace(needle, ours), rcpt_tos=(VERP,))
    assert report.original_message_ids[:1] == (OUR_ID,)
    assert report.verp_tokens == (TOKEN,)


@needs_corpus
def test_a_foreign_verp_address_in_a_real_bounce_is_not_ours_until_it_is() -> None:
    raw = corpus_bytes("torture/sisimai__rb-issue-368-bug.eml")
    assert read(raw, rcpt_tos=()).verp_tokens == ()
    rewritten = raw.replace(b"To: bounce+xxxx=yyyyyy.net@zzzzzzzz.net", f"To: {VERP}".encode())
    assert read(rewritten, rcpt_tos=()).verp_tokens == (TOKEN,)


@needs_corpus
def test_every_corpus_bounce_names_a_recipient() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    unread = []
    for path in files:
        mail = parse_mail(path.read_bytes())
        report = read_bounce(mail, (), DOMAIN)  # never raises, whatever the file
        if classify_automatic(mail).kind == MailKind.BOUNCE and not report.recipients:
            unread.append(path.name)
    # phpmmp__failure.eml is a report cut off inside its first (GB2312) text part.
    assert unread == ["phpmmp__failure.eml"]
