"""Properties of the MIME reader on any bytes: it never raises, never falls back on a bug of its own, and gives
back what the stdlib's email package put in.

"Falls back on a bug" is seen in the log: ``parse_mail``, ``decode_header_value`` and ``read_bounce`` catch
their own exceptions so that a mail is never lost, and log them with the traceback. A property run that
logs one has found a bug, even though nothing was raised.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from hypothesis import example, given
from hypothesis import strategies as st

from fuzzing import FUZZ, JAPANESE, charset_labels, japanese_text, typed_text
from parsers.automatic import MailKind, classify_automatic
from parsers.bounce import read_bounce
from parsers.mime.encoded_words import decode_header_value
from parsers.mime.html_text import html_to_text
from parsers.mime.parse import parse_mail
from parsers.mime.parsed_mail import ParsedMail
from parsers.mime.transfer import b64decode_lenient, undo_transfer_encoding
from parsers.normalize import normalize_text


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@contextmanager
def no_swallowed_errors() -> Iterator[None]:
    """Fails if a parser logged an exception it caught (its own bug, hidden by its fallback)."""
    handler = _Tracebacks()
    logger = logging.getLogger("parsers")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, "\n".join(handler.format(r) + "\n" + logging.Formatter().formatException(r.exc_info)
                                          for r in handler.records if r.exc_info)


def assert_well_formed(mail: ParsedMail) -> None:
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
    assert all(isinstance(d, str) and d for d in mail.defects)
    for attachment in mail.attachments:
        assert attachment.size == len(attachment.data)
    assert "\x00" not in mail.subject


# ---------------------------------------------------------------------------------------------
# Mail-shaped bytes: headers of the kinds that matter, nested multiparts, every transfer encoding

HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
                "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Auto-Submitted", "Precedence",
                "Return-Path", "X-Failed-Recipients", "List-Id", "Reply-To", "Received", "X-Spam"]
encoded_word = st.builds(lambda cs, enc, payload: f"=?{cs}?{enc}?{payload}?=",
                         st.sampled_from(["utf-8", "iso-2022-jp", "shift_jis", "euc-jp", "x-bogus", "utf-8*ja", ""]),
                         st.sampled_from(["B", "Q", "b", "q", "X"]),
                         st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh0123456789+/=_?", max_size=40))
header_value = st.one_of(
    st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b" ")),
    st.lists(st.one_of(encoded_word, st.text(alphabet=JAPANESE + " <>@\";:,()", max_size=20)), max_size=4)
    .map(lambda words: " ".join(words).encode("utf-8")),
    st.sampled_from([b"multipart/mixed; boundary=B", b"multipart/alternative; boundary=\"B\"", b"text/plain",
                     b"text/html; charset=shift_jis", b"message/rfc822",
                     b"multipart/report; report-type=delivery-status; boundary=B", b"message/delivery-status",
                     b"base64", b"quoted-printable", b"x-uuencode",
                     b"attachment; filename*=utf-8''%E6%B3%A8%E6%96%87.pdf",
                     b"attachment; filename*0*=x; filename*99999999999999999999=y", b"auto-replied", b"<a@b> <c@d>",
                     b"Sat, 21 Nov 2026 10:30 +0900", b"Sat, 99 Foo 99999 99:99:99 +9999", b"undisclosed-recipients:;",
                     b"\"\xe5\xb1\xb1\" <a@b>"]),
)
header_line = st.builds(lambda name, value: name.encode() + b": " + value, st.sampled_from(HEADER_NAMES), header_value)
leaf_body = st.one_of(
    st.binary(max_size=300),
    japanese_text.map(lambda t: t.encode("utf-8")),
    japanese_text.map(lambda t: t.encode("iso2022_jp", "replace")),
    st.sampled_from([b"begin 644 x.txt\n#86)C\n`\nend\n", b"=E6=89=BF=E8=AA=8D", b"5om/6KqN\n", b"<p>a<b>b</div>",
                     b"Final-Recipient: rfc822; a@b\nAction: failed\nStatus: 5.1.1\n"]),
)


def _multipart(children: list[bytes], boundary: bytes, closed: bool) -> bytes:
    out = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
    return out + (b"--" + boundary + b"--\r\n" if closed else b"")


def _part(headers: list[bytes], body: bytes) -> bytes:
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


mime_part = st.recursive(
    st.builds(_part, st.lists(header_line, max_size=6), leaf_body),
    lambda inner: st.builds(
        lambda headers, children, boundary, closed, ctype: _part(
            [*headers, b"Content-Type: " + ctype + b"; boundary=\"" + boundary + b"\""],
            _multipart(children, boundary, closed)),
        st.lists(header_line, max_size=4), st.lists(inner, max_size=4),
        st.sampled_from([b"B", b"b1", b"=_x", b""]), st.booleans(),
        st.sampled_from([b"multipart/mixed", b"multipart/alternative", b"multipart/report", b"message/rfc822",
                         b"multipart/related"])),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    """A mail with a few bytes cut, inserted or changed: what a broken relay or a truncated file gives."""
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["cut", "insert", "flip", "truncate"]))
        if edit == "cut":
            del data[at:at + draw(st.integers(1, 20))]
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from([b"\r", b"\n", b"\x00", b"\x1b$B", b"--B", b"=?", b"\xff\xfe", b":"]))
        elif edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            del data[at:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2000))
def test_parse_mail_takes_any_bytes(raw: bytes) -> None:
    with no_swallowed_errors():
        assert_well_formed(parse_mail(raw))


@FUZZ
@given(mutated(mime_part))
def test_parse_mail_takes_any_mail_shaped_bytes(raw: bytes) -> None:
    with no_swallowed_errors():
        mail = parse_mail(raw)
        assert_well_formed(mail)
        classify_automatic(mail)
        classify_automatic(mail, "")
        report = read_bounce(mail, ["bounce+abc123@torii.test"], "torii.test")
        assert report.shape != "unreadable"
        assert report.verp_tokens == ("abc123",)


@FUZZ
@given(st.one_of(st.binary(max_size=300), typed_text))
@example("=?utf-8?Q?Re:_ok=0D=0ABcc:_x@evil.example?=")  # found: a line break decoded into the subject
def test_header_decoding_takes_anything(value: bytes | str) -> None:
    with no_swallowed_errors():
        text, defects = decode_header_value(value)
    assert isinstance(text, str) and all(isinstance(d, str) for d in defects)
    assert not any(c in text for c in "\r\n\x00")


@FUZZ
@given(st.lists(st.one_of(encoded_word, st.text(max_size=10)), max_size=8).map(" ".join))
def test_encoded_words_of_any_shape_decode_without_error(value: str) -> None:
    with no_swallowed_errors():
        decode_header_value(value)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([None, "base64", "BASE64 ", "quoted-printable", "x-uuencode", "8bit",
                                                 "binary", "x-gzip", "7bit; foo", "uue", ""]))
def test_transfer_encodings_undo_any_bytes(raw: bytes, cte: str | None) -> None:
    defects: list[str] = []
    assert isinstance(undo_transfer_encoding(raw, cte, defects), bytes)


@FUZZ
@given(st.binary(max_size=300))
def test_lenient_base64_gives_back_what_was_encoded(data: bytes) -> None:
    encoded = base64.encodebytes(data)
    assert b64decode_lenient(encoded) == (data, False)
    # Junk between the lines (a mangling relay) costs nothing but the damage flag.
    assert b64decode_lenient(encoded.replace(b"\n", b"\n!\n"))[0] == data


MARKUP = [*"<>/=\"' abcdiv!-&;#x0123", "<div>", "</div>", "<br>", "<p>", "<!--", "-->", "<![CDATA[", "<!DOCTYPE", "&#x",
          "<blockquote>", "</blockquote>", "<style>", "<pre>", "<div id=divRplyFwdMsg>", "<div class=gmail_quote>"]


@FUZZ
@given(st.lists(st.sampled_from(MARKUP), max_size=60).map("".join), st.booleans())
def test_html_to_text_takes_any_markup(html: str, drop_quotes: bool) -> None:
    with no_swallowed_errors():
        text = html_to_text(html, drop_quotes)
    assert isinstance(text, str)


@FUZZ
@given(japanese_text, st.booleans())
def test_html_text_keeps_the_words_of_plain_paragraphs(text: str, drop_quotes: bool) -> None:
    from html import escape

    lines = [line for line in text.split("\n")]
    html = "<html><body>" + "".join(f"<p>{escape(line)}</p>" for line in lines) + "</body></html>"
    got = html_to_text(html, drop_quotes)
    assert got.split() == " ".join(lines).split()


# ---------------------------------------------------------------------------------------------
# Round trips: what the stdlib builds, parse_mail reads back

file_names = st.text(alphabet=JAPANESE + "abcdefgxyz0123456789-_. ", min_size=1, max_size=30).filter(
    lambda n: n.strip() == n and n.strip(".") == n and bool(n))
attachments = st.lists(st.tuples(st.binary(min_size=1, max_size=600), file_names,
                                 st.sampled_from(["application/pdf", "image/tiff", "application/octet-stream",
                                                  "text/csv"])), max_size=3)
body_charsets = st.sampled_from(["utf-8", "iso-2022-jp", "shift_jis", "euc-jp"])
# Text as a client sends it: no trailing blanks (NFKC'd and trimmed the same by both sides), lines under 900.
body_texts = st.lists(st.text(alphabet=JAPANESE + "abc XYZ.,!?0189", max_size=60).map(str.strip),
                      min_size=1, max_size=12).map("\n".join).filter(lambda t: t.strip())


def _build(text: str, charset: str, html: bool, files: list[tuple[bytes, str, str]], subject: str,
           from_name: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(from_name, "yamada", "partner.example")
    msg["To"] = "reply+abc@torii.test"
    msg["Subject"] = subject
    msg["Message-ID"] = "<round-trip@partner.example>"
    msg["Date"] = "Sat, 21 Nov 2026 10:30:00 +0900"
    msg.set_content(text, charset=charset)
    if html:
        from html import escape

        msg.add_alternative("<html><body>" + "<br>".join(escape(line) for line in text.split("\n"))
                            + "</body></html>", subtype="html", charset=charset)
    for data, name, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


@FUZZ
@given(body_texts, body_charsets, st.booleans(), attachments,
       st.text(alphabet=JAPANESE + "Re: abc[]", max_size=80).map(str.strip),
       st.text(alphabet=JAPANESE + "abc ", max_size=20).map(str.strip))
def test_a_mail_built_by_the_stdlib_reads_back_with_its_text_parts_and_attachments(
        text: str, charset: str, html: bool, files: list[tuple[bytes, str, str]], subject: str, name: str) -> None:
    raw = _build(text, charset, html, files, subject, name).as_bytes()
    with no_swallowed_errors():
        mail = parse_mail(raw)
    assert mail.text == normalize_text(text).strip("\n")
    assert mail.subject == subject
    assert (mail.from_addr, mail.from_name) == ("yamada@partner.example", name)
    assert mail.message_id == "round-trip@partner.example"
    assert mail.date is not None and mail.date.isoformat() == "2026-11-21T10:30:00+09:00"
    if html:
        assert mail.html is not None and html_to_text(mail.html).split() == text.split()
    assert [(a.data, a.filename, a.content_type) for a in mail.attachments] == files
    assert not [d for d in mail.defects if "failed" in d]


@FUZZ
@given(body_texts, body_charsets)
@example("認", "euc-jp")  # found: EUC-JP 認 is the bytes of UTF-8 ǧ, and was read so
def test_a_forwarded_mail_is_an_attachment_never_the_body(text: str, charset: str) -> None:
    inner = _build(text, charset, False, [], "original", "")
    outer = EmailMessage(policy=SMTP)
    outer["From"] = "a@partner.example"
    outer["Subject"] = "Fwd: original"
    outer.set_content("forwarded below")
    outer.add_attachment(inner)
    mail = parse_mail(outer.as_bytes())
    assert mail.text == "forwarded below"
    [enclosed] = mail.attachments
    assert enclosed.content_type == "message/rfc822"
    assert parse_mail(enclosed.data).text == normalize_text(text).strip("\n")


@FUZZ
@given(st.binary(max_size=500), charset_labels)
@example(b"\xe6\x89\xbf\xe8\xaa\x8d", "utf\x00-8")  # found: a NUL in the label cost the whole structure
def test_a_text_part_in_any_declared_charset_is_read_as_text(body: bytes, label: str | None) -> None:
    declared = f"; charset=\"{label}\"" if label is not None else ""
    raw = (b"From: a@partner.example\r\nContent-Type: text/plain" + declared.encode("utf-8", "replace")
           + b"\r\n\r\n" + body)
    with no_swallowed_errors():
        mail = parse_mail(raw)
    assert_well_formed(mail)
    assert mail.from_addr == "a@partner.example"
    assert mail.attachments == () or all(a.content_type for a in mail.attachments)


def test_an_auto_reply_built_by_the_stdlib_is_known() -> None:
    msg = EmailMessage()
    msg["From"] = "p@partner.example"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Subject"] = "不在です"
    msg.set_content("不在にしております。")
    assert classify_automatic(parse_mail(msg.as_bytes())).kind == MailKind.AUTO_REPLY
