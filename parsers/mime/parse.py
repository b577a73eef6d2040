"""parse_mail: any bytes to a ParsedMail, never an exception.

The stdlib parser (``compat32``, which records defects instead of raising)
gives the structure; headers and payloads are decoded here, because mail in
the wild lies about charsets and transfer encodings and ``policy.default``
raises on headers it finds odd. Whatever could not be read is said in
``defects``; the raw bytes are kept by the gateway, so nothing is lost.

A mail over the limits in force (``parsers.limits``: header bytes, MIME parts, nesting depth) says so in
``too_large`` ("too large: ..."). A header block or a part count over the limit is seen before the
stdlib parser runs (it takes seconds on a few megabytes of either): only the headers are read then.
"""

from __future__ import annotations

import email
import hashlib
import logging
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import replace
from email.message import Message
from email.policy import compat32

from parsers import limits
from parsers.charsets import decode_bytes
from parsers.mime.encoded_words import decode_header_value
from parsers.mime.fields import addresses, first_id, ids, mail_date
from parsers.mime.html_text import html_to_text
from parsers.mime.params import param, raw_header
from parsers.mime.parsed_mail import Attachment, ParsedMail, first_header, header_values
from parsers.mime.transfer import undo_transfer_encoding
from parsers.normalize import normalize_text

__all__ = ["parse_mail", "MAX_ATTACHMENTS"]

log = logging.getLogger(__name__)

# The defaults of the limits (parsers.limits.Limits); the ones in force are ``limits.current()``'s.
MAX_DEPTH = limits.Limits().mime_depth  # MIME nesting; real mail stays under 10, nesting bombs go to thousands
MAX_PARTS = limits.Limits().mime_parts
MAX_ATTACHMENTS = 200


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one message; problems end up in ``defects`` (and ``too_large``), never as an exception."""
    data = _as_bytes(raw)
    bounds = limits.current()
    try:
        over = _over_limits(data, bounds)
        if over is not None:
            return _headers_only(data, bounds, over)
        return _Parser(data, bounds).parse()
    except RecursionError:
        log.warning("parse_mail: structure too deep for the MIME parser (%d bytes)", len(data))
        return replace(_fallback(data, "MIME structure too deep to parse; headers and body read as plain text"),
                       too_large=f"too large: MIME nesting too deep to parse (at most {bounds.mime_depth} levels)")
    except Exception as exc:  # a parser bug must not lose the mail
        log.exception("parse_mail failed (%d bytes)", len(data))
        return _fallback(data, f"MIME parsing failed ({exc!r}); headers and body read as plain text")


_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)
_DELIMITER = re.compile(rb"^--([^\r\n]{1,202})", re.M)


def _over_limits(data: bytes, bounds: limits.Limits) -> str | None:
    """Why the mail is too large to parse whole, seen without parsing it: its header, or its count of parts."""
    end = _HEADER_END.search(data)
    header = end.start() if end else len(data)
    if header > bounds.header_bytes:
        return f"too large: the header is {limits.mib(header)} (at most {limits.mib(bounds.header_bytes)})"
    boundaries = {a or b for a, b in _BOUNDARY.findall(data)}
    if not boundaries:
        return None
    parts = 0
    open_: list[bytes] = []  # the boundaries of the multiparts the delimiters so far are inside, outermost first
    for found in _DELIMITER.finditer(data):
        token = found.group(1).rstrip(b" \t")
        closing = token.endswith(b"--") and token[:-2] in boundaries
        boundary = token[:-2] if closing else token
        if boundary not in boundaries:
            continue
        if boundary in open_:
            del open_[open_.index(boundary) + (0 if closing else 1):]
        elif not closing:
            open_.append(boundary)
            if len(open_) > bounds.mime_depth:
                return f"too large: MIME nesting deeper than {bounds.mime_depth} levels"
        if not closing:
            parts += 1
            if parts > bounds.mime_parts:
                return f"too large: more than {bounds.mime_parts} MIME parts"
    return None


def _headers_only(data: bytes, bounds: limits.Limits, why: str) -> ParsedMail:
    """The first ``header_bytes`` of the header block parsed, the body not read: what a reviewer needs to see."""
    end = _HEADER_END.search(data)
    head = data[:min(end.start() if end else len(data), bounds.header_bytes)]
    head = head[:head.rfind(b"\n") + 1] if len(head) == bounds.header_bytes and b"\n" in head else head
    mail = _Parser(head + b"\r\n\r\n", bounds).parse()
    # What the parser says of the missing body (no boundary, no text) is only that it is missing.
    kept = [d for d in mail.defects if not d.startswith(("MIME:", "multipart/", "no text", "the text"))]
    return replace(mail, text="", defects=(*kept, f"{why}; the body was not read"), too_large=why)


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_HEADER_LINE = re.compile(r"^([!-9;-~]+)[ \t]*:(.*)$")


def _fallback(data: bytes, why: str) -> ParsedMail:
    """Headers split by hand and the rest as text: for input the stdlib parser chokes on."""
    defects = [why]
    try:
        match = _HEADER_END.search(data)
        head, body = (data[:match.start()], data[match.end():]) if match else (data, b"")
        unfolded = re.sub(r"\r?\n[ \t]+", " ", head.decode("ascii", "surrogateescape"))
        headers: list[tuple[str, str]] = []
        for line in re.split(r"\r?\n|\r", unfolded):
            found = _HEADER_LINE.match(line)
            if found:
                value, problems = decode_header_value(found.group(2).strip())
                headers.append((_clean_name(found.group(1)), value))
                defects.extend(problems)
        text, problems = decode_bytes(body[:4 * 1024 * 1024], None)
        defects.extend(problems)
        subject = first_header(headers, "subject") or ""
        return ParsedMail(None, (), (), subject, None, "", (), (), None, tuple(headers),
                          normalize_text(text), None, (), tuple(dict.fromkeys(defects)))
    except Exception as exc:
        log.exception("parse_mail fallback failed")
        return ParsedMail(None, (), (), "", None, "", (), (), None, (), "", None, (),
                          (why, f"fallback parsing failed too ({exc!r})"))


def _clean_name(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------------------------------
# The parser

_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t]+\r?\n)+")
_CTYPE = re.compile(r"([a-z0-9][a-z0-9!#$&^_.+-]*)\s*/\s*([a-z0-9][a-z0-9!#$&^_.+-]*)")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


class _Parser:
    def __init__(self, data: bytes, bounds: limits.Limits) -> None:
        self.data = data
        self.bounds = bounds
        self.defects: list[str] = []
        self.plain: str | None = None
        self.html: str | None = None
        self.attachments: list[Attachment] = []
        self.parts_seen = 0
        self.skipped_attachments = 0
        self.depth_exceeded = False

    def parse(self) -> ParsedMail:
        data = self.data
        if not data.strip():
            self.defects.append("empty message")
        stripped = _LEADING_BLANK_LINES.sub(b"", data)
        if stripped != data:
            self.defects.append("whitespace lines before the headers ignored")
        msg = email.message_from_bytes(stripped, policy=compat32)

        headers = self._headers(msg)
        self._walk(msg, 0)
        too_large = None
        if self.depth_exceeded:
            self.defects.append(f"MIME nesting deeper than {self.bounds.mime_depth} levels; inner parts not read")
            too_large = f"too large: MIME nesting deeper than {self.bounds.mime_depth} levels"
        if self.parts_seen > self.bounds.mime_parts:
            too_large = f"too large: more than {self.bounds.mime_parts} MIME parts"
        if self.skipped_attachments:
            self.defects.append(f"{self.skipped_attachments} attachment(s) beyond the first "
                                f"{MAX_ATTACHMENTS} not kept")

        text = self._body_text()
        from_pairs = addresses(msg, "From", self.defects)
        from_addr = next((addr for _, addr in from_pairs if "@" in addr), None)
        from_name = next((name for name, _ in from_pairs if name), "")
        return ParsedMail(
            message_id=first_id(first_header(headers, "Message-ID")),
            in_reply_to=ids(first_header(headers, "In-Reply-To")),
            references=ids(" ".join(header_values(headers, "References"))),
            subject=(first_header(headers, "Subject") or "").strip(),
            from_addr=from_addr,
            from_name=from_name,
            to_addrs=tuple(a for _, a in addresses(msg, "To", self.defects) if a),
            cc_addrs=tuple(a for _, a in addresses(msg, "Cc", self.defects) if a),
            date=mail_date(first_header(headers, "Date"), self.defects),
            headers=headers,
            text=text,
            html=self.html,
            attachments=tuple(self.attachments),
            defects=tuple(dict.fromkeys(self.defects)),
            too_large=too_large,
        )

    def _headers(self, msg: Message) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in msg.raw_items():
            decoded, problems = decode_header_value(str(value))
            self.defects.extend(f"{_clean_name(name)} header: {p}" for p in problems)
            out.append((_clean_name(name), decoded.strip()))
        return tuple(out)

    # -- structure ----------------------------------------------------------------------------

    def _walk(self, part: Message, depth: int) -> None:
        self.parts_seen += 1
        if self.parts_seen > self.bounds.mime_parts:
            if self.parts_seen == self.bounds.mime_parts + 1:
                self.defects.append(f"more than {self.bounds.mime_parts} MIME parts; the rest not read")
            return
        if depth > self.bounds.mime_depth:
            self.depth_exceeded = True
            return
        for defect in getattr(part, "defects", []):
            self.defects.append(f"MIME: {_humanize(type(defect).__name__)}")
        ctype = self._content_type(part)
        # Not get_payload(): it decodes 8-bit text with the declared charset, and a charset label with a NUL
        # in it makes that raise ValueError, which would cost the whole structure.
        payload = getattr(part, "_payload", None)
        if isinstance(payload, list):
            if ctype.startswith("message/"):
                # An enclosed message (forward, bounce copy, report) is an attachment, never the body.
                self._attach(part, ctype, self._serialize(payload))
                return
            for child in payload:
                if isinstance(child, Message):
                    self._walk(child, depth + 1)
            return
        if ctype.startswith("multipart/"):
            self.defects.append(f"{ctype} without parts; its body read as text")
            ctype = "text/plain"
        self._leaf(part, ctype)

    def _content_type(self, part: Message) -> str:
        raw = raw_header(part, "Content-Type")
        if raw is None:
            return part.get_default_type()
        value = decode_header_value(raw)[0].strip().lower()
        match = _CTYPE.match(value)
        if match:
            return f"{match.group(1)}/{match.group(2)}"
        filename = self._filename(part)
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        fallback = guessed or "text/plain"
        self.defects.append(f"invalid Content-Type {value[:60]!r}; read as {fallback}")
        return fallback

    def _leaf(self, part: Message, ctype: str) -> None:
        data = self._payload_bytes(part)
        disposition = (raw_header(part, "Content-Disposition") or "").split(";", 1)[0].strip().lower()
        if ctype in ("text/plain", "text/html") and disposition != "attachment":
            # An empty first part (a multipart that lost its boundary) gives way to the next one.
            if ctype == "text/plain" and (self.plain is None or not self.plain.strip()):
                self.plain = self._text(part, data, ctype)
                return
            if ctype == "text/html" and (self.html is None or not self.html.strip()):
                self.html = self._text(part, data, ctype)
                return
        self._attach(part, ctype, data)

    def _text(self, part: Message, data: bytes, ctype: str) -> str:
        charset = param(part, "Content-Type", "charset")
        if charset is None and ctype == "text/html":
            meta = _META_CHARSET.search(data[:4096])
            if meta:
                charset = meta.group(1).decode("ascii", "replace")
        text, problems = decode_bytes(data, charset)
        self.defects.extend(f"{ctype} part: {p}" for p in problems)
        return text

    def _payload_bytes(self, part: Message) -> bytes:
        # get_payload() would decode 8-bit text with the declared charset and "replace":
        # the raw payload keeps every byte (as surrogates) for our own decoding.
        payload = getattr(part, "_payload", None)
        raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        return undo_transfer_encoding(raw, raw_header(part, "Content-Transfer-Encoding"), self.defects)

    def _filename(self, part: Message) -> str | None:
        # Parsed from the raw headers: the stdlib turns 8-bit file names into U+FFFD.
        name = param(part, "Content-Disposition", "filename") or param(part, "Content-Type", "name")
        return name.strip() or None if name else None

    def _attach(self, part: Message, ctype: str, data: bytes) -> None:
        if len(self.attachments) >= MAX_ATTACHMENTS:
            self.skipped_attachments += 1
            return
        self.attachments.append(Attachment(
            filename=self._filename(part),
            content_type=ctype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
        ))

    def _serialize(self, payload: Iterable[object]) -> bytes:
        chunks = []
        for item in payload:
            if not isinstance(item, Message):
                continue
            try:
                chunks.append(item.as_bytes(policy=compat32))
            except Exception:  # the generator can trip over what the parser let through
                try:
                    chunks.append(item.as_string(policy=compat32).encode("utf-8", "surrogateescape"))
                except Exception:
                    self.defects.append("an enclosed message could not be serialized")
        return b"\n".join(chunks)

    def _body_text(self) -> str:
        if self.plain is not None and self.plain.strip():
            return normalize_text(self.plain).strip("\n")
        if self.html is not None:
            text = normalize_text(html_to_text(self.html)).strip("\n")
            if text.strip():
                return text
        readable = next((a for a in self.attachments if a.content_type in _READABLE and a.data.strip()), None)
        if readable is not None:
            # A report whose human-readable part is mislabelled (or missing): show the report itself.
            text, problems = decode_bytes(readable.data, None)
            self.defects.append(f"no text/plain or text/html body; text taken from the {readable.content_type} part")
            self.defects.extend(problems)
            return normalize_text(text).strip("\n")
        if self.attachments:
            self.defects.append(f"no text body; the message has {len(self.attachments)} attachment(s) only")
        elif self.plain is None and self.html is None:
            self.defects.append("no text body")
        else:
            self.defects.append("the text body is empty")
        return normalize_text(self.plain or "").strip("\n")


_READABLE = ("text/plain", "message/delivery-status", "message/disposition-notification",
             "message/feedback-report", "text/rfc822-headers", "message/global-delivery-status")


def _humanize(name: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Defect")).lower()
    return words or name
