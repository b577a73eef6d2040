"""read_bounce: what a delivery failure report says, and which of our messages it answers.

A bounce names the message it answers in up to three ways, all collected:

- the envelope recipient: we send with a VERP return path, ``bounce+TOKEN@domain``,
  TOKEN being the local part of our Message-ID (``TOKEN@domain``);
- the original message, attached (``message/rfc822``, ``text/rfc822-headers``) or
  quoted in the text (qmail, Exchange, Lotus Notes, m-FILTER, ...): its Message-ID;
- ``In-Reply-To`` / ``References`` of the report itself (Exchange sets them).

What went wrong comes from the RFC 3464 ``message/delivery-status`` part when
there is one (per recipient: Final-Recipient, Action, Status, Diagnostic-Code),
and otherwise from the text of the common non-standard shapes. Permanent or not:

    Status 5.x.x or Action: failed              permanent (the reporting MTA gave up)
    Status 4.x.x or Action: delayed             soft
    no status: an SMTP reply code in the text    5xx permanent, 4xx soft
    nothing of that                              permanent only if the text clearly says
                                                 the address does not exist, else soft

``read_bounce`` never raises: what it cannot read is simply not in the report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parsers.charsets import decode_bytes
from parsers.mime.parsed_mail import ParsedMail
from parsers.normalize import normalize_text

__all__ = ["BounceReport", "read_bounce"]

log = logging.getLogger(__name__)

MAX_DIAGNOSTIC = 500
# A report's own words fit in a few KB; beyond this it is a quoted original (or an attack on our regexes).
MAX_REPORT_TEXT = 64 * 1024
MAX_SEARCHED_TEXT = 1024 * 1024


@dataclass(frozen=True)
class BounceReport:
    original_message_ids: tuple[str, ...]  # without <>; ours (of ``domain``) first
    verp_tokens: tuple[str, ...]  # TOKEN of bounce+TOKEN@domain: the local part of our Message-ID
    recipients: tuple[str, ...]  # the addresses that failed, lower case
    status: str | None  # RFC 3463 enhanced status, e.g. "5.1.1"
    action: str | None  # RFC 3464 Action: failed, delayed, delivered, relayed, expanded
    diagnostic: str | None  # the remote server's words, one line
    permanent: bool
    shape: str  # rfc3464, qmail, postfix, exchange, exim, sendmail, text, unknown, unreadable

    @property
    def is_failure(self) -> bool:
        """False for a success notice (Action: delivered / relayed / expanded): nothing failed."""
        return self.action not in ("delivered", "relayed", "expanded")

    @property
    def is_warning(self) -> bool:
        """A delay warning: the remote MTA is still trying, the mail may yet arrive."""
        return self.action == "delayed"


def read_bounce(mail: ParsedMail, rcpt_tos: Sequence[str], domain: str) -> BounceReport:
    """Read a bounce that reached us at ``rcpt_tos`` (the envelope; empty for files and IMAP)."""
    domain = domain.strip().rstrip(".").lower()
    tokens: tuple[str, ...] = ()
    try:
        tokens = _verp_tokens(mail, rcpt_tos, domain)
        return _Reader(mail, domain, tokens).read()
    except Exception:  # a reader bug must not lose the bounce: it is kept, unread
        log.exception("read_bounce failed (message %s)", mail.message_id)
        return BounceReport((), tokens, (), None, None, None, False, "unreadable")


# ---------------------------------------------------------------------------------------------
# VERP

_VERP = re.compile(r"^bounce\+([a-z0-9]+)@(.+)$")
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


def _verp_tokens(mail: ParsedMail, rcpt_tos: Sequence[str], domain: str) -> tuple[str, ...]:
    # Without an envelope, the delivering MTA's trace headers hold the recipient.
    addresses: Iterable[str] = rcpt_tos or [v for name in _ENVELOPE_HEADERS for v in mail.header_all(name)]
    tokens = []
    for value in addresses:
        for address in _ADDRESS_IN_TEXT.findall(value) or [value]:
            # Our tokens are lower-case hex; some MTAs upper-case the address they answer.
            match = _VERP.match(address.strip().strip("<>").lower())
            if match and match.group(2) == domain:
                tokens.append(match.group(1))
    return tuple(dict.fromkeys(tokens))


# ---------------------------------------------------------------------------------------------
# The report

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
                   "message/global-headers", "message/partial")
_SUCCESS_ACTIONS = ("delivered", "relayed", "expanded")

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MESSAGE_ID_LINE = re.compile(r"^[ \t>]*Message-ID[ \t]*:\s*<([^<>\s]+@[^<>\s]+)>", re.I | re.M)


@dataclass(frozen=True)
class _Recipient:
    address: str | None
    action: str | None
    status: str | None
    diagnostic: str | None

    @property
    def verdict(self) -> bool | None:
        """True permanent, False soft, None undecided by the DSN fields."""
        if self.action == "failed" or (self.status or "").startswith("5"):
            return True
        if self.action == "delayed" or (self.status or "").startswith("4"):
            return False
        return None


class _Reader:
    def __init__(self, mail: ParsedMail, domain: str, tokens: tuple[str, ...]) -> None:
        self.mail = mail
        self.domain = domain
        self.tokens = tokens
        self.texts = [t[:MAX_SEARCHED_TEXT] for t in (mail.text, *self._text_attachments()) if t]
        head, _ = _split_at_original("\n\n".join(self.texts)[:MAX_REPORT_TEXT])
        self.head = head  # the report's own words, without the quoted original

    def read(self) -> BounceReport:
        originals = self._original_headers()
        ids = self._message_ids(originals)
        recipients = self._dsn_recipients()
        if recipients:
            return self._from_dsn(recipients, ids, originals)
        return self._from_text(ids, originals)

    # -- RFC 3464 ------------------------------------------------------------------------------

    def _dsn_recipients(self) -> list[_Recipient]:
        found = []
        for attachment in self.mail.attachments:
            if attachment.content_type in _DSN_TYPES:
                text, _ = decode_bytes(attachment.data, "utf-8")
                found.extend(_recipient_blocks(text))
        return found

    def _from_dsn(self, recipients: list[_Recipient], ids: tuple[str, ...],
                  originals: list[dict[str, str]]) -> BounceReport:
        failed = [r for r in recipients if r.action not in _SUCCESS_ACTIONS]
        primary = next((r for r in failed if r.verdict), failed[0] if failed else recipients[0])
        diagnostic = primary.diagnostic or _text_diagnostic(self.head)
        status = primary.status or _enhanced_status(diagnostic or "")
        if not failed:
            permanent = False
        elif any(r.verdict for r in failed):
            permanent = True
        elif any(r.verdict is False for r in failed):
            permanent = False
        else:
            permanent = _permanent_from_text(status, diagnostic or "", self.head)
        addresses = [r.address for r in recipients if r.address] or _original_recipients(originals)
        return BounceReport(ids, self.tokens, _unique(addresses), status, primary.action,
                            _one_line(diagnostic), permanent, "rfc3464")

    # -- the text of non-standard bounces ------------------------------------------------------------

    def _from_text(self, ids: tuple[str, ...], originals: list[dict[str, str]]) -> BounceReport:
        head = self.head
        shape = _shape(head)
        diagnostic = _text_diagnostic(head, shape)
        status = _enhanced_status(diagnostic or "") or _enhanced_status(head)
        recipients = _text_recipients(head, self.domain, self.mail.from_addr) or _original_recipients(originals)
        warning = bool(_WARNING.search(head))
        permanent = False if warning else _permanent_from_text(status, diagnostic or "", head)
        if shape == "text" and not (recipients or status or diagnostic or ids or self.tokens):
            shape = "unknown"
        return BounceReport(ids, self.tokens, _unique(recipients), status, "delayed" if warning else None,
                            _one_line(diagnostic), permanent, shape)

    # -- the original message ----------------------------------------------------------------------

    def _text_attachments(self) -> list[str]:
        texts = []
        for attachment in self.mail.attachments:
            if attachment.content_type == "text/plain":
                text, _ = decode_bytes(attachment.data, None)
                texts.append(normalize_text(text))
        return texts

    def _original_headers(self) -> list[dict[str, str]]:
        found = []
        for attachment in self.mail.attachments:
            if attachment.content_type in _ORIGINAL_TYPES and attachment.data.strip():
                text, _ = decode_bytes(attachment.data[:256 * 1024], "utf-8")
                headers = _header_block(text)
                if headers:
                    found.append(headers)
        return found

    def _message_ids(self, originals: list[dict[str, str]]) -> tuple[str, ...]:
        ids: list[str] = []
        for headers in originals:
            value = headers.get("message-id", "")
            bracketed = re.findall(r"<([^<>\s]+)>", value)
            ids.extend(bracketed[:1] or value.split()[:1])
        # In free text only our own: a quoted conversation may name anybody's messages.
        ours = [m for text in self.texts for m in _MESSAGE_ID_LINE.findall(text) if self._ours(m)]
        replied = [m for m in (*self.mail.in_reply_to, *self.mail.references) if self._ours(m)]
        ids = [_normal_id(m) for m in (*ids, *ours, *replied)]
        return tuple(sorted(dict.fromkeys(ids), key=lambda m: not self._ours(m)))

    def _ours(self, message_id: str) -> bool:
        return message_id.rpartition("@")[2].strip().rstrip(".").lower() == self.domain


def _normal_id(message_id: str) -> str:
    local, at, host = message_id.strip().strip("<>").rpartition("@")
    return f"{local}@{host.lower()}" if at else message_id.strip().strip("<>")


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _one_line(text: str | None) -> str | None:
    if not text:
        return None
    line = re.sub(r"\s+", " ", text).strip()
    return line[:MAX_DIAGNOSTIC] or None


# ---------------------------------------------------------------------------------------------
# Header-style fields (DSN blocks, attached headers)

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")


def _fields(lines: Iterable[str]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        match = _FIELD.match(line)
        if match:
            fields.append((match.group(1).lower(), match.group(2).strip()))
    return fields


def _header_block(text: str) -> dict[str, str]:
    head = re.split(r"\r?\n[ \t]*\r?\n", text.lstrip("\r\n"), maxsplit=1)[0]
    headers: dict[str, str] = {}
    for name, value in _fields(re.split(r"\r?\n", head)):
        headers.setdefault(name, value)
    return headers


def _recipient_blocks(text: str) -> list[_Recipient]:
    recipients = []
    for block in re.split(r"\r?\n(?:[ \t]*\r?\n)+", text):
        fields = dict(reversed(_fields(re.split(r"\r?\n", block))))  # the first of each name wins
        if not ({"final-recipient", "original-recipient", "action", "status"} & fields.keys()):
            continue  # the per-message block (Reporting-MTA, Arrival-Date, ...) or stray text
        address = _dsn_address(fields.get("final-recipient")) or _dsn_address(fields.get("original-recipient"))
        action_words = fields.get("action", "").split()
        action = action_words[0].lower() if action_words else None
        status_match = _ENHANCED.search(fields.get("status", ""))
        diagnostic = fields.get("diagnostic-code", "")
        diagnostic = diagnostic.split(";", 1)[1] if ";" in diagnostic[:20] else diagnostic
        recipients.append(_Recipient(address, action, status_match.group(0) if status_match else None,
                                     diagnostic.strip() or None))
    return recipients


def _dsn_address(value: str | None) -> str | None:
    if not value:
        return None
    kind, _, address = value.partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() not in ("rfc822", "utf-8"):
        return None  # x-unix; x-local; ...: not a mail address
    found = _ADDRESS_IN_TEXT.search(address)
    return found.group(0).lower() if found else None


def _original_recipients(originals: list[dict[str, str]]) -> list[str]:
    return [a.lower() for headers in originals for a in _ADDRESS_IN_TEXT.findall(headers.get("to", ""))]


# ---------------------------------------------------------------------------------------------
# Free text

# Where the report ends and the copy of the original begins.
_ORIGINAL_MARK = re.compile(
    r"^[ \t\-=_*#]*(?:below this line is a copy of the message|this is a copy of the message"
    r"|original message (?:headers|follows)|original message\b|returned message|undelivered message"
    r"|message headers? follows?|the header of the original message|bounced e-?mail"
    r"|元のメッセージ|元のメール|送信したメッセージ|返送されたメッセージ)",
    re.I | re.M)


def _split_at_original(text: str) -> tuple[str, str]:
    match = _ORIGINAL_MARK.search(text)
    return (text[:match.start()], text[match.start():]) if match else (text, "")


_SHAPES = (
    ("qmail", re.compile(r"this is the qmail-send program", re.I)),
    ("postfix", re.compile(r"this is the mail system at host", re.I)),
    ("exchange", re.compile(r"delivery has failed to these recipients|couldn't be delivered to|microsoft exchange"
                            r"|diagnostic information for administrators|remote server returned|resolver\.adr\.",
                            re.I)),
    ("exim", re.compile(r"this message was created automatically by mail delivery software", re.I)),
    ("sendmail", re.compile(r"-{3,}\s*the following addresses? ha(?:d|s)|-{3,}\s*transcript of session follows",
                            re.I)),
)


def _shape(head: str) -> str:
    return next((name for name, pattern in _SHAPES if pattern.search(head)), "text")


_DIAGNOSTICS = {
    # <addr>:\n the remote's words, up to a blank line
    "qmail": re.compile(r"^<[^<>\s]+@[^<>\s]+>:[ \t]*\n((?:[^\n]+(?:\n|$))+)", re.M),
    # <addr> (expanded from <x>): the remote's words, continued on indented lines
    "postfix": re.compile(r"^<[^<>\s]+@[^<>\s]+>(?: \(expanded from <[^>]*>\))?:[ \t]*(.+(?:\n[ \t]+.+)*)", re.M),
    "sendmail": re.compile(r"\(reason:\s*([^\n]+?)\)?[ \t]*$", re.M),
    "exchange": re.compile(r"#(\d{3}[ -]\d\.\d{1,3}\.\d{1,3}[^#\n]*)#*|remote server returned '([^'\n]+)'", re.I),
}
_REPLY_LINE = re.compile(
    r"^[ \t]*(?:<<<[ \t]*|#)?([45]\d\d)[ -][^\n]*$"
    r"|(?:said|reason|returned|response|replied|\])\W{0,3}([45]\d\d)\b[^\n]*", re.I | re.M)
_LISTED_LINE = re.compile(r"^[ \t]*<[^<>\s]+@[^<>\s]+>[ \t:.]*([^\n]+)", re.M)
_REASON_LINE = re.compile(
    r"(?:reject reason|reason|error|理由|エラー内容|エラー)[ \t]*[:：][ \t]*([^\n]+)"
    r"|(?:failure reasons?|non-delivered information)[^\n]*\n(?:[ \t]*\n)*[ \t]*([^\n]+)", re.I)


def _text_diagnostic(head: str, shape: str = "text") -> str | None:
    pattern = _DIAGNOSTICS.get(shape)
    match = pattern.search(head) if pattern else None
    if match is None:
        match = _REPLY_LINE.search(head)
        if match is not None:
            return match.group(0).strip()
        match = _PERMANENT.search(head)
        if match is not None:
            start = head.rfind("\n", 0, match.start()) + 1
            end = head.find("\n", match.end())
            return head[start:end if end >= 0 else len(head)].strip()
        match = _LISTED_LINE.search(head) or _REASON_LINE.search(head)
    if match is None:
        return None
    return next((g for g in match.groups() if g), match.group(0)).strip()


def _enhanced_status(text: str) -> str | None:
    # An enhanced code counts only where SMTP puts one: after a reply code, after "#" or "Status:".
    match = re.search(r"(?:\b[245]\d\d[ -]|#|\(#|status:\s*)([245]\.\d{1,3}\.\d{1,3})\b", text, re.I)
    return match.group(1) if match else None


def _reply_code(text: str) -> int | None:
    match = _REPLY_LINE.search(text)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


_PERMANENT = re.compile(
    r"user unknown|unknown user|no such (?:user|recipient|mailbox|address|account)"
    r"|(?:recipient|user|mailbox|address|account|addressee)(?: address)? (?:not found|unknown|does not exist"
    r"|doesn't exist)|does not exist|mailbox unavailable|mailbox not found|invalid (?:recipient|mailbox)"
    r"|not a valid (?:recipient|mailbox)|recipnotfound|unrouteable address|no mailbox here"
    r"|e-mail address was not found|address (?:couldn't|could not) be found"
    r"|存在しません|存在しない|宛先不明|ユーザ不明|ユーザー不明|受取人不明|見つかりません|見つかりませんでした",
    re.I)
_PERMANENT_HEADING = re.compile(r"permanent fatal error|this is a permanent error", re.I)
_WARNING = re.compile(r"this is a warning message only|will keep trying|still trying to deliver"
                      r"|has not yet been delivered|transient non-fatal", re.I)


def _permanent_from_text(status: str | None, diagnostic: str, head: str) -> bool:
    if status:
        return status.startswith("5")
    code = _reply_code(diagnostic) or _reply_code(head)
    if code is not None:
        return code >= 500
    if _PERMANENT_HEADING.search(head):
        return True
    return bool(_PERMANENT.search(diagnostic) or _PERMANENT.search(head))


# The MTA's own list of failed addresses (qmail, Postfix, Sendmail): when it is there, it is the answer.
_LISTED = re.compile(r"^[ \t]*<([^<>\s]+@[^<>\s]+)>", re.M)
_RECIPIENT_PATTERNS = (
    re.compile(r"mailto:([^\s\"'<>]+@[^\s\"'<>]+)", re.I),  # Exchange
    re.compile(r"your message to[ \t]+<?([^\s<>]+@[^\s<>]+?)>?[ \t]+couldn't be delivered", re.I),  # Office 365
    re.compile(r"(?:(?:mail|message) (?:sent |addressed )?to|deliver(?:ed|y)? to)[ \t:]+<?([^\s<>]+@[^\s<>]+)", re.I),
    re.compile(r"(?:target mail address|recipient(?: address)?|original-recipient|final-recipient"
               r"|宛先|あて先|送信先|メールアドレス)[^\n:：]{0,40}[:：][ \t]*(?:rfc822;)?[ \t]*"
               r"<?([^\s<>]+@[^\s<>]+?)>?[ \t]*$", re.I | re.M),
    re.compile(r"^[ \t]*([^\s<>@:]+@[^\s<>@:]+?)[ \t.]*$", re.M),  # an address alone on its line
)


def _text_recipients(head: str, domain: str, reporter: str | None) -> list[str]:
    listed = _addresses(_LISTED.findall(head), domain, reporter)
    if listed:
        return listed
    return _addresses((v for p in _RECIPIENT_PATTERNS for v in p.findall(head)), domain, reporter)


def _addresses(values: Iterable[str], domain: str, reporter: str | None) -> list[str]:
    found = []
    for value in values:
        address = _ADDRESS_IN_TEXT.search(value)
        if address is None:
            continue
        addr = address.group(0).lower().rstrip(".")
        # Our own addresses are the sender here, and the reporting daemon is not a recipient.
        if addr.rpartition("@")[2] != domain and addr != (reporter or "").lower():
            found.append(addr)
    return found
