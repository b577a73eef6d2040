"""parse_mail: real messages built with the stdlib, in every charset partners use, and broken ones."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import timedelta
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from parsers.mime.html_text import html_to_text
from parsers.mime.parse import MAX_ATTACHMENTS, parse_mail


def headers(msg: Message, subject: str = "Re: ご招待") -> Message:
    msg["From"] = formataddr_ja("山田 太郎", "Yamada@Partner.Example")
    msg["To"] = "reply+abc@torii.example, other@torii.example"
    msg["Cc"] = "Boss <boss@partner.example>"
    msg["Subject"] = Header(subject, "utf-8").encode()
    msg["Date"] = "Sat, 21 Nov 2026 10:30:00 +0900"
    msg["Message-ID"] = "<reply-1@partner.example>"
    msg["In-Reply-To"] = "<inv-42@torii.example>"
    msg["References"] = "<older@torii.example>\r\n <inv-42@torii.example>"
    return msg


def formataddr_ja(name: str, addr: str) -> str:
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


def iso2022jp_text(text: str) -> MIMEText:
    part = MIMEText("", "plain")
    part.set_payload(text.encode("iso2022_jp").decode("ascii"))
    part.set_param("charset", "iso-2022-jp")
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "7bit"
    return part


def cp932_text(text: str, label: str = "Shift_JIS") -> MIMEBase:
    part = MIMEBase("text", "plain", charset=label)
    part.set_payload(text.encode("cp932"))
    encoders.encode_base64(part)
    return part


def test_utf8_reply_headers_and_body_are_decoded() -> None:
    mail = parse_mail(headers(MIMEText("承認します。", "plain", "utf-8")).as_bytes())
    assert mail.text == "承認します。"
    assert mail.subject == "Re: ご招待"
    assert mail.from_addr == "yamada@partner.example"
    assert mail.from_name == "山田 太郎"
    assert mail.to_addrs == ("reply+abc@torii.example", "other@torii.example")
    assert mail.cc_addrs == ("boss@partner.example",)
    assert mail.message_id == "reply-1@partner.example"
    assert mail.in_reply_to == ("inv-42@torii.example",)
    assert mail.references == ("older@torii.example", "inv-42@torii.example")
    assert mail.date is not None and mail.date.utcoffset() == timedelta(hours=9)
    assert mail.header("subject") == "Re: ご招待"
    assert mail.header_all("X-Nothing") == ()
    assert mail.html is None and mail.attachments == () and mail.defects == ()


def test_iso_2022_jp_body_is_decoded() -> None:
    mail = parse_mail(headers(iso2022jp_text("承認します")).as_bytes())
    assert mail.text == "承認します"
    assert mail.defects == ()


def test_iso_2022_jp_with_nec_characters_and_half_width_katakana_is_decoded() -> None:
    # What Windows clients send (CP50221): NEC row 13 in JIS, half-width katakana after ESC ( I.
    body = b"\x1b$B>5G'\x1b(B \x1b$B-!-j\x1b(B \x1b(I59\x1b(B"
    msg = MIMEText("", "plain")
    msg.set_payload(body.decode("ascii"))
    msg.set_param("charset", "iso-2022-jp")
    mail = parse_mail(msg.as_bytes())
    # text is NFKC-normalized: ① → 1, ㈱ → (株), half-width katakana → full width.
    assert mail.text == "承認 1(株) オケ"
    assert mail.defects == ()


def test_cp932_body_labelled_shift_jis_keeps_nec_characters() -> None:
    mail = parse_mail(headers(cp932_text("承認します\n㈱インフォ物産\n① 本社")).as_bytes())
    assert "\ufffd" not in mail.text
    assert mail.text == "承認します\n(株)インフォ物産\n1 本社"
    assert mail.defects == ()


def test_eight_bit_shift_jis_body_is_decoded() -> None:
    msg = MIMEText("", "plain")
    msg.set_payload("非承認です。㈱".encode("cp932").decode("ascii", "surrogateescape"))
    msg.set_param("charset", "shift_jis")
    del msg["Content-Transfer-Encoding"]
    msg["Content-Transfer-Encoding"] = "8bit"
    assert parse_mail(msg.as_bytes()).text == "非承認です。(株)"


def test_mislabelled_charset_is_read_and_reported() -> None:
    mail = parse_mail(headers(cp932_text("保留でお願いします", label="iso-8859-1")).as_bytes())
    assert mail.text == "保留でお願いします"
    assert any("iso-8859-1" in defect for defect in mail.defects)


def test_html_only_reply_gives_text_from_the_html() -> None:
    html = ('<div dir="ltr">承認します<br>担当者：佐藤</div><div class="gmail_quote">'
            '<blockquote class="gmail_quote">非承認 / 保留</blockquote></div>')
    mail = parse_mail(headers(MIMEText(html, "html", "utf-8")).as_bytes())
    assert mail.html is not None and "gmail_quote" in mail.html
    assert mail.text.startswith("承認します\n担当者:佐藤")
    assert html_to_text(mail.html, drop_quotes=True) == "承認します\n担当者：佐藤"


def test_encoded_word_subject_split_mid_character_is_joined() -> None:
    raw_subject = "Re: 承認します".encode()
    first, second = base64.b64encode(raw_subject[:6]).decode(), base64.b64encode(raw_subject[6:]).decode()
    raw = (f"From: a@partner.example\r\nSubject: =?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?=\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nok\r\n").encode()
    mail = parse_mail(raw)
    assert mail.subject == "Re: 承認します"
    assert mail.defects == ()


def test_iso_2022_jp_subject_split_mid_character_is_joined() -> None:
    encoded = "承認します".encode("iso2022_jp")
    first, second = base64.b64encode(encoded[:6]).decode(), base64.b64encode(encoded[6:]).decode()
    raw = (f"Subject: =?ISO-2022-JP?B?{first}?= =?ISO-2022-JP?B?{second}?=\r\n\r\nbody\r\n").encode()
    assert parse_mail(raw).subject == "承認します"


def test_attachments_are_kept_with_name_type_size_and_hash() -> None:
    msg = headers(MIMEMultipart())
    msg.attach(MIMEText("承認します", "plain", "utf-8"))
    pdf = MIMEApplication(b"%PDF-1.4 fake", "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "見積書.pdf"))
    msg.attach(pdf)
    mail = parse_mail(msg.as_bytes())
    assert mail.text == "承認します"
    (attachment,) = mail.attachments
    assert attachment.filename == "見積書.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(b"%PDF-1.4 fake")
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 fake").hexdigest()
    assert attachment.data == b"%PDF-1.4 fake"


def test_eight_bit_and_encoded_word_file_names_are_decoded() -> None:
    raw = ("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b\r\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?5pys5paH?=.txt\"\r\n\r\nx\r\n"
           "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=管理.doc\r\n"
           "\r\ny\r\n--b--\r\n").encode()
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == ["本文.txt", "管理.doc"]


def test_an_enclosed_message_is_an_attachment_never_the_body() -> None:
    inner = MIMEText("非承認 (this is the forwarded message, not the answer)", "plain", "utf-8")
    inner["Subject"] = "forwarded"
    msg = headers(MIMEMultipart())
    msg.attach(MIMEText("承認します", "plain", "utf-8"))
    msg.attach(MIMEMessage(inner))
    mail = parse_mail(msg.as_bytes())
    assert mail.text == "承認します"
    assert [a.content_type for a in mail.attachments] == ["message/rfc822"]
    assert b"Subject: forwarded" in mail.attachments[0].data


def test_only_an_enclosed_message_gives_no_text_and_says_why() -> None:
    inner = MIMEText("承認します", "plain", "utf-8")
    msg = MIMEMultipart()
    msg.attach(MIMEMessage(inner))
    mail = parse_mail(msg.as_bytes())
    assert mail.text == ""
    assert any("attachment(s) only" in d for d in mail.defects)


def test_multipart_report_takes_its_human_readable_part_as_text() -> None:
    raw = (b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
           b"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
           b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
           b"Final-Recipient: rfc822; x@y\r\nAction: failed\r\n--r--\r\n")
    mail = parse_mail(raw)
    assert mail.text == "Your message could not be delivered."
    assert "message/delivery-status" in [a.content_type for a in mail.attachments]


def test_base64_with_junk_and_missing_padding_is_decoded_with_a_defect() -> None:
    payload = base64.b64encode("承認します".encode()).decode().rstrip("=")
    raw = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           f"{payload[:8]}!!\r\n{payload[8:]}A\r\n").encode()
    mail = parse_mail(raw)
    assert mail.text.startswith("承認します")
    assert any("base64" in d for d in mail.defects)


def test_broken_quoted_printable_keeps_what_it_can() -> None:
    raw = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"=E6=89=BF=E8=AA=8D=E3=81=97=E3=81=BE=E3=81=99 =ZZ 100% =\r\nok\r\n")
    assert parse_mail(raw).text == "承認します =ZZ 100% ok"


def test_missing_final_boundary_still_gives_the_text() -> None:
    raw = b"Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhold\r\n"
    mail = parse_mail(raw)
    assert mail.text == "hold"
    assert any("boundary" in d for d in mail.defects)


def test_part_without_content_type_is_plain_text() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nplain answer\r\n--x--\r\n"
    assert parse_mail(raw).text == "plain answer"


def test_bare_cr_line_endings_are_read() -> None:
    raw = b"From: a@partner.example\rSubject: cr\rContent-Type: text/plain\r\r" + "承認".encode() + b"\rok\r"
    mail = parse_mail(raw)
    assert mail.subject == "cr"
    assert mail.text == "承認\nok"


def test_uuencoded_part_is_decoded() -> None:
    import binascii

    line = binascii.b2a_uu(b"hello uu").decode()
    raw = ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
           "--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
           f"begin 644 a.bin\r\n{line}`\r\nend\r\n--x--\r\n").encode()
    assert parse_mail(raw).attachments[0].data == b"hello uu"


def nested(depth: int) -> bytes:
    body = b"innermost\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary + b"\r\n"
                + body + b"\r\n--" + boundary + b"--\r\n")
    return b"Subject: bomb\r\n" + body


@pytest.mark.parametrize("depth", [60, 2500])
def test_nesting_bombs_stop_with_a_defect(depth: int) -> None:
    mail = parse_mail(nested(depth))
    assert mail.subject == "bomb"
    assert any("nesting" in d or "too deep" in d for d in mail.defects)


def test_too_many_attachments_are_capped_with_a_defect() -> None:
    parts = "".join(f"--x\r\nContent-Type: application/octet-stream\r\n\r\n{i}\r\n"
                    for i in range(MAX_ATTACHMENTS + 5))
    raw = (f"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           f"{parts}--x--\r\n")
    mail = parse_mail(raw.encode())
    assert len(mail.attachments) == MAX_ATTACHMENTS
    assert any("beyond the first" in d for d in mail.defects)


def test_unparseable_date_and_from_are_defects_not_errors() -> None:
    mail = parse_mail(b"From: nobody\r\nDate: Pn, 29 paX 2007 21:13:00 +0100\r\n\r\nbody\r\n")
    assert mail.date is None and mail.from_addr is None
    assert any("Date" in d for d in mail.defects)


def test_eight_bit_headers_are_decoded_as_utf8_or_cp932() -> None:
    raw = "Subject: 承認\r\nFrom: 山田 <y@partner.example>\r\n\r\nx\r\n".encode()
    assert parse_mail(raw).subject == "承認"
    assert parse_mail(raw.replace("承認".encode(), "承認".encode("cp932"))).subject == "承認"


@pytest.mark.parametrize("seed", range(40))
def test_any_bytes_give_a_result_never_an_exception(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000)))
    if seed % 2:
        data = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<b>" + data
    mail = parse_mail(data)
    assert mail.text or mail.defects


def test_empty_input_is_an_empty_message() -> None:
    mail = parse_mail(b"")
    assert mail.text == "" and "empty message" in mail.defects


def test_html_to_text_keeps_lines_and_drops_outlook_history() -> None:
    html = ("<html><head><style>p{}</style></head><body><p>承認します</p><p>担当者：&nbsp;佐藤</p>"
            "<table><tr><td>a</td><td>b</td></tr></table>"
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
            "<p><b>From:</b> Torii</p></div><p>非承認 / 保留</p></body></html>")
    assert html_to_text(html) == "承認します\n担当者：\u00a0佐藤\na b\nFrom: Torii\n非承認 / 保留"
    assert html_to_text(html, drop_quotes=True) == "承認します\n担当者：\u00a0佐藤\na b"
    assert html_to_text("a<br><br>b<div>c</div>") == "a\n\nb\nc"


def test_deeply_nested_html_is_read_without_a_tree() -> None:
    # A DOM library takes minutes on this; the streaming pass stays linear.
    html = "<div>" * 20000 + "承認します" + "</div>" * 20000 + "<blockquote>" * 20000 + "非承認"
    assert html_to_text(html, drop_quotes=True) == "承認します"


def test_html_with_an_unclosed_head_still_has_a_body() -> None:
    assert html_to_text("<html><head><title>x<body><p>保留</p>") == "保留"
    assert html_to_text("<p>a</p><script>var x = '<p>no</p>';</script><pre>  b\n  c</pre>") == "a\nb\nc"
