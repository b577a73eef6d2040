"""parse_mail: any bytes to a ParsedMail, never an exception.

The stdlib parser (``compat32``, which records defects instead of raising)
gives the structure; headers and payloads are decoded here, because mail in
the wild lies about charsets and transfer encodings and ``policy.default``
raises on headers it finds odd. Whatever could not be read is said in
``defects``; the raw bytes are kept by the gateway, so nothing is lost.
"""

from __future__ import annotations

import binascii
import email
import email.utils
import hashlib
import logging
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote_to_bytes

from parsers.charsets import b64decode_lenient, decode_bytes, decode_header_value
from parsers.normalize import normalize_text

__all__ = ["Attachment", "ParsedMail", "parse_mail", "html_to_text"]

log = logging.getLogger(__name__)

MAX_DEPTH = 30  # MIME nesting; real mail stays under 10, nesting bombs go to thousands
MAX_PARTS = 2000
MAX_ATTACHMENTS = 200


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_addr: str | None
    from_name: str
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def recipients(self, envelope: Sequence[str]) -> list[str]:
        """Who the mail was delivered to, lower case: the envelope's recipients, or To/Cc when there is no
        envelope (files, IMAP)."""
        return [a.strip().lower() for a in (list(envelope) or [*self.to_addrs, *self.cc_addrs])]

    def header_all(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)


# ---------------------------------------------------------------------------------------------
# Entry point

def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one message; problems end up in ``defects``, never as an exception."""
    data = _as_bytes(raw)
    try:
        return _Parser(data).parse()
    except RecursionError:
        log.warning("parse_mail: structure too deep for the MIME parser (%d bytes)", len(data))
        return _fallback(data, "MIME structure too deep to parse; headers and body read as plain text")
    except Exception as exc:  # a parser bug must not lose the mail
        log.exception("parse_mail failed (%d bytes)", len(data))
        return _fallback(data, f"MIME parsing failed ({exc!r}); headers and body read as plain text")


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
        subject = next((v for k, v in headers if k.lower() == "subject"), "")
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
_CTE = re.compile(r"[a-z0-9-]+")
_MSG_ID = re.compile(r"<([^<>]*)>")
_ADDR_SPEC = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_EMPTY_GROUP = re.compile(r"^\s*[^:<>@]*:\s*;?\s*$")  # "undisclosed-recipients:;"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.data = data
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
        if self.depth_exceeded:
            self.defects.append(f"MIME nesting deeper than {MAX_DEPTH} levels; inner parts not read")
        if self.skipped_attachments:
            self.defects.append(f"{self.skipped_attachments} attachment(s) beyond the first "
                                f"{MAX_ATTACHMENTS} not kept")

        text = self._body_text()
        lookup = _HeaderLookup(headers)
        from_pairs = self._addresses(msg, "From")
        from_addr = next((addr for _, addr in from_pairs if "@" in addr), None)
        from_name = next((name for name, _ in from_pairs if name), "")
        return ParsedMail(
            message_id=_first_id(lookup.first("Message-ID")),
            in_reply_to=_ids(lookup.first("In-Reply-To")),
            references=_ids(" ".join(lookup.all("References"))),
            subject=(lookup.first("Subject") or "").strip(),
            from_addr=from_addr,
            from_name=from_name,
            to_addrs=tuple(a for _, a in self._addresses(msg, "To") if a),
            cc_addrs=tuple(a for _, a in self._addresses(msg, "Cc") if a),
            date=self._date(lookup.first("Date")),
            headers=headers,
            text=text,
            html=self.html,
            attachments=tuple(self.attachments),
            defects=tuple(dict.fromkeys(self.defects)),
        )

    # -- headers ------------------------------------------------------------------------------

    def _headers(self, msg: Message) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in msg.raw_items():
            decoded, problems = decode_header_value(str(value))
            self.defects.extend(f"{_clean_name(name)} header: {p}" for p in problems)
            out.append((_clean_name(name), decoded.strip()))
        return tuple(out)

    def _addresses(self, msg: Message, name: str) -> list[tuple[str, str]]:
        values = [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]
        if not values:
            return []
        pairs: list[tuple[str, str]] = []
        try:
            parsed = email.utils.getaddresses(values)
        except Exception:  # getaddresses has raised on odd input in some Python versions
            parsed = []
        for raw_name, raw_addr in parsed:
            addr = decode_header_value(raw_addr)[0].strip().strip("<>").strip().lower()
            display = decode_header_value(raw_name)[0].strip().strip('"').strip()
            if "@" in addr and not addr.startswith("@") and not addr.endswith("@"):
                pairs.append((display, addr))
        if not pairs:
            # Unparseable lists ("a@x b@y", stray brackets): take whatever looks like an address.
            decoded = " ".join(decode_header_value(v)[0] for v in values)
            found = [a.lower() for a in _ADDR_SPEC.findall(decoded)]
            if found:
                self.defects.append(f"{name} header could not be parsed as addresses; took {', '.join(found)}")
                display = _ADDR_SPEC.sub("", decoded).strip(" <>\"',")
                pairs = [(display if i == 0 else "", a) for i, a in enumerate(found)]
            elif decoded.strip() and not _EMPTY_GROUP.match(decoded):
                self.defects.append(f"{name} header has no address: {decoded.strip()[:100]!r}")
        return pairs

    def _date(self, value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is None:
            self.defects.append(f"unparseable Date header: {value[:80]!r}")
            return None
        if parsed.tzinfo is None:
            # "-0000" means UTC with the local zone unknown.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed

    # -- structure ----------------------------------------------------------------------------

    def _walk(self, part: Message, depth: int) -> None:
        self.parts_seen += 1
        if self.parts_seen > MAX_PARTS:
            if self.parts_seen == MAX_PARTS + 1:
                self.defects.append(f"more than {MAX_PARTS} MIME parts; the rest not read")
            return
        if depth > MAX_DEPTH:
            self.depth_exceeded = True
            return
        for defect in getattr(part, "defects", []):
            self.defects.append(f"MIME: {_humanize(type(defect).__name__)}")
        ctype = self._content_type(part)
        payload = part.get_payload()
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
        raw = _raw_header(part, "Content-Type")
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
        disposition = (_raw_header(part, "Content-Disposition") or "").split(";", 1)[0].strip().lower()
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
        charset = _param(part, "Content-Type", "charset")
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
        cte_value = (_raw_header(part, "Content-Transfer-Encoding") or "").strip().lower()
        match = _CTE.match(cte_value)
        cte = match.group() if match else ""
        if cte in ("", "7bit", "8bit", "binary") or cte.startswith(("7bit", "8bit")):
            return raw
        if cte in ("base64", "base-64", "x-base64"):
            data, damaged = b64decode_lenient(raw)
            if damaged:
                self.defects.append("base64 body with junk characters or cut short; decoded what could be")
            return data
        if cte in ("quoted-printable", "quotedprintable", "qp"):
            return binascii.a2b_qp(raw)
        if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
            return self._uudecode(raw)
        self.defects.append(f"unknown Content-Transfer-Encoding {cte_value[:40]!r}; body kept undecoded")
        return raw

    def _uudecode(self, raw: bytes) -> bytes:
        out = bytearray()
        inside = damaged = False
        for line in raw.splitlines():
            if not inside:
                inside = line.startswith(b"begin ")
                continue
            if line.strip() in (b"end", b"`"):
                if line.strip() == b"end":
                    break
            try:
                out += binascii.a2b_uu(line)
            except binascii.Error:
                # Some encoders pad lines with junk; the length byte says how much is real.
                try:
                    out += binascii.a2b_uu(line[:(((line[0] - 32) & 63) * 4 + 5) // 3])
                except (binascii.Error, IndexError):
                    damaged = True
        if not inside:
            self.defects.append("x-uuencode body without a 'begin' line; kept undecoded")
            return raw
        if damaged:
            self.defects.append("uuencoded body damaged; decoded what could be")
        return bytes(out)

    def _filename(self, part: Message) -> str | None:
        # Parsed from the raw headers: the stdlib turns 8-bit file names into U+FFFD.
        name = _param(part, "Content-Disposition", "filename") or _param(part, "Content-Type", "name")
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


class _HeaderLookup:
    def __init__(self, headers: tuple[tuple[str, str], ...]) -> None:
        self.headers = headers

    def first(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def _raw_header(part: Message, name: str) -> str | None:
    """The first raw value of a header, with 8-bit bytes kept as surrogates."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return re.sub(r"\r?\n[ \t]", " ", str(value))
    return None


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.S)
_SECTION = re.compile(r"^(.+?)\*(\d+)(\*?)$")


def _param(part: Message, header: str, name: str) -> str | None:
    """A parameter of a raw header: RFC 2231 sections and charsets, encoded words, 8-bit bytes."""
    raw = _raw_header(part, header)
    if raw is None:
        return None
    wanted = name.lower()
    plain: str | None = None
    extended: str | None = None
    sections: dict[int, tuple[str, bool]] = {}
    for key, value in _PARAM.findall(raw):
        key = key.lower()
        value = value.strip()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1] if value.endswith('"') and len(value) > 1 else value[1:])
        if key == wanted and plain is None:
            plain = value
        elif key == wanted + "*" and extended is None:
            extended = value
        else:
            section = _SECTION.match(key)
            if section and section.group(1) == wanted:
                sections.setdefault(int(section.group(2)), (value, bool(section.group(3))))
    if sections or extended is not None:
        ordered = [sections[i] for i in sorted(sections)] if sections else [(extended or "", True)]
        charset: str | None = None
        data = bytearray()
        for index, (value, encoded) in enumerate(ordered):
            if encoded:
                if index == 0 and value.count("'") >= 2:
                    charset, _lang, value = value.split("'", 2)
                data += unquote_to_bytes(value.encode("utf-8", "surrogateescape"))
            else:
                data += value.encode("utf-8", "surrogateescape")
        if charset:
            return decode_bytes(bytes(data), charset)[0]
        return decode_header_value(bytes(data))[0]
    if plain is None:
        return None
    return decode_header_value(plain)[0].strip()


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    found = (match.group(1) if match else value).strip()
    return re.sub(r"\s+", "", found) or None


def _ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = [re.sub(r"\s+", "", m) for m in _MSG_ID.findall(value)]
    if not found:
        found = [token.strip("<>") for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(i for i in found if i))


def _humanize(name: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Defect")).lower()
    return words or name


# ---------------------------------------------------------------------------------------------
# HTML
#
# A streaming pass over the tags (stdlib HTMLParser), not a tree: linear in the size of the
# markup however deep it nests, which a DOM library is not (a nesting bomb of 50,000 divs
# took minutes through BeautifulSoup).

_SKIP_TAGS = frozenset(["script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"])
_BLOCK_TAGS = frozenset(["p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt", "dl",
                         "address", "center", "form", "fieldset", "caption", "thead", "tbody", "tfoot", "body",
                         "main", "nav", "aside", "figure", "html"])
_VOID_TAGS = frozenset(["br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source",
                        "track", "wbr", "param", "keygen"])
_QUOTE_CLASSES = ("gmail_quote", "gmail_extra", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote",
                  "zmail_extra", "outlookmessageheader", "ms-outlook-ios-reply", "aolreplyheader")
# Outlook puts no quote element around the original: these mark where it starts.
_CUT_IDS = frozenset(["divrplyfwdmsg", "appendonsend", "stopspelling", "olk_src_body_section",
                      "mail-editor-reference-message-container", "x_divrplyfwdmsg", "x_appendonsend"])
_OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(?:e1e1e1|b5c4df)", re.I)
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_DROP = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.I | re.S)
_HTML_BREAK = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6]|/blockquote|/table|hr)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLOCK_EDGE = "\x1e"
_EDGES = re.compile(r"[ \t\n]*\x1e[\x1e \t\n]*")


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; with ``drop_quotes``, without the quoted history."""
    try:
        extractor = _TextExtractor(drop_quotes)
        extractor.feed(html)
        extractor.close()
        text = extractor.text()
    except Exception:  # HTMLParser has asserted on odd declarations; tags stripped by hand then
        log.warning("html_to_text: falling back to tag stripping", exc_info=True)
        text = _HTML_DROP.sub(" ", html)
        text = _HTML_BREAK.sub("\n", text)
        text = unescape(_HTML_TAG.sub("", text))
    return _tidy(text.split("\n"))


class _TextExtractor(HTMLParser):
    def __init__(self, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.pieces: list[str] = []
        self.skip_tag: str | None = None  # inside an element whose content is not text (or a quote)
        self.skip_depth = 0
        self.pre_depth = 0
        self.done = False  # an Outlook original started: nothing after it is the reply

    def text(self) -> str:
        # Block edges make one line break however many meet; <br><br> keeps its blank line.
        return _EDGES.sub(lambda m: "\n" * max(1, m.group().count("\n")), "".join(self.pieces))

    def _quote_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag == "blockquote":
            return True
        classes = " ".join(value or "" for name, value in attrs if name == "class").lower().split()
        return any(c.startswith(_QUOTE_CLASSES) for c in classes)

    def _cut(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = dict(attrs)
        if (values.get("id") or "").lower() in _CUT_IDS:
            return True
        style = values.get("style") or ""
        return tag == "div" and bool(_OUTLOOK_BORDER.search(style)) and "padding" in style.lower()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            elif tag == "body" and self.skip_tag in ("head", "title"):
                self.skip_tag, self.skip_depth = None, 0  # an unclosed <head> ends where <body> starts
            else:
                return
        if self.skip_tag is not None:
            return
        if self.drop_quotes and self._cut(tag, attrs):
            self.done = True
            return
        if tag in _SKIP_TAGS or (self.drop_quotes and self._quote_start(tag, attrs)):
            if tag not in _VOID_TAGS:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "br":
            self.pieces.append("\n")
        elif tag in _BLOCK_TAGS:
            self.pieces.append(_BLOCK_EDGE)
            if tag == "pre":
                self.pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in _BLOCK_TAGS:
            self.handle_starttag(tag, attrs)
            if tag != "br":
                self.handle_endtag(tag)
        elif self.drop_quotes and not self.done and self.skip_tag is None and self._cut(tag, attrs):
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth <= 0:
                    self.skip_tag, self.skip_depth = None, 0
            return
        if tag in _BLOCK_TAGS:
            self.pieces.append(_BLOCK_EDGE)
            if tag == "pre" and self.pre_depth:
                self.pre_depth -= 1
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        if self.done or self.skip_tag is not None:
            return
        self.pieces.append(data if self.pre_depth else _SPACES.sub(" ", data))


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    blank = 0
    for line in lines:
        line = line.strip()
        if not line:
            blank += 1
            if blank > 1 or not out:
                continue
        else:
            blank = 0
        out.append(line)
    return "\n".join(out).strip()
