"""A partner's mail client, simulated: replies as real clients write them.

Used to make the files under samples/, by the tests and by the benchmarks.
Each style mimics a family of clients: where the answer goes (top or bottom),
how the original is quoted (``>``, an Outlook header block, an HTML
blockquote), which charset and transfer encoding the body uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html import escape
from pathlib import Path

from samples.demo import PLACEHOLDERS

SAMPLES = Path(__file__).resolve().parent

# Placeholders in sample files, filled in by samples.demo.fill_sample when a sample is played.
REPLY_TO, IN_REPLY_TO, PARTNER, MESSAGE_ID = PLACEHOLDERS

# Who the quoted original was from, as the partner's client shows it above the quote.
QUOTED_FROM = "株式会社インフォ商会 <reply@torii.example>"

CHARSET_CODECS = {"utf-8": "utf-8", "iso-2022-jp": "iso2022_jp", "shift_jis": "cp932"}


def quote_lines(text: str, mark: str = "> ") -> str:
    return "\n".join(mark + line if line else mark.rstrip() for line in text.splitlines())


def _text_part(body: str, charset: str) -> MIMEText:
    codec = CHARSET_CODECS[charset]
    if charset == "utf-8":
        return MIMEText(body, "plain", "utf-8")
    part = MIMEText("", "plain")
    # BytesGenerator writes surrogate-escaped text back as the original bytes.
    part.set_payload(body.encode(codec, errors="strict").decode("ascii", "surrogateescape"))
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "7bit" if charset == "iso-2022-jp" else "8bit"
    part.set_param("charset", charset)
    return part


def compose_reply(
    *,
    answer: str,
    original_text: str = "",
    original_subject: str = "ご招待",
    from_name: str = "山田 太郎",
    from_addr: str = PARTNER,
    to_addr: str = REPLY_TO,
    in_reply_to: str | None = IN_REPLY_TO,
    message_id: str = MESSAGE_ID,
    charset: str = "utf-8",
    style: str = "top",
    signature: str = "",
    extra_headers: dict[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """A reply to ``original_text``.

    style: ``top`` (answer above ``>``-quoted original, Gmail-like), ``outlook`` (answer above
    an unquoted original under a 差出人/送信日時 block), ``bottom`` (quote first, answer below),
    ``html`` (HTML-only with the original in a gmail_quote blockquote), ``bare`` (no quote).
    """
    when = date or datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    sig = f"\n\n{signature}" if signature else ""
    if style == "top":
        body = f"{answer}{sig}\n\n2026年11月20日(金) 9:00 {QUOTED_FROM}:\n{quote_lines(original_text)}\n"
    elif style == "outlook":
        body = (f"{answer}{sig}\n\n-----Original Message-----\n差出人: {QUOTED_FROM}\n"
                f"送信日時: 2026年11月20日 9:00\n宛先: {from_addr}\n件名: {original_subject}\n\n{original_text}\n")
    elif style == "bottom":
        body = f"On Fri, Nov 20, 2026 at 9:00 AM {QUOTED_FROM} wrote:\n{quote_lines(original_text)}\n\n{answer}{sig}\n"
    elif style == "bare":
        body = f"{answer}{sig}\n"
    elif style != "html":
        raise ValueError(f"unknown style {style!r}")

    if style == "html":
        html = (
            f'<div dir="ltr">{escape(answer).replace(chr(10), "<br>")}'
            f'{"<br><br>" + escape(signature).replace(chr(10), "<br>") if signature else ""}</div><br>'
            f'<div class="gmail_quote"><div class="gmail_attr">2026年11月20日(金) 9:00 {escape(QUOTED_FROM)}:</div>'
            f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">'
            f'{escape(original_text).replace(chr(10), "<br>")}</blockquote></div>'
        )
        msg = MIMEText(html, "html", "utf-8")
    else:
        msg = _text_part(body, charset)

    header_charset = "iso-2022-jp" if charset == "iso-2022-jp" else "utf-8"
    msg["From"] = formataddr((from_name, from_addr), charset=header_charset)
    msg["To"] = to_addr
    msg["Subject"] = Header(f"Re: {original_subject}", header_charset)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    return msg.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
