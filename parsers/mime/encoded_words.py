"""Header text: RFC 2047 encoded words, raw 8-bit bytes and bare ISO-2022-JP all read; never an exception.

Clients cut encoded words in the middle of a character and send 8-bit headers
without any label, so adjacent words in one charset are joined as bytes before
decoding and raw bytes are guessed like an undeclared body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from parsers.charsets import decode_bytes, guess_decoding
from parsers.jis import decode_iso2022jp
from parsers.mime.transfer import b64decode_lenient

__all__ = ["decode_header_value"]

log = logging.getLogger(__name__)

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# A line break or tab decoded out of an encoded word ("=?utf-8?Q?a=0Ab?=") is a space: header text
# goes back into headers ("Re: ..."), where a line break would start a header of the sender's choosing.
_BREAKS = re.compile(r"[\t\n\v\f\r]")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _q_decode(text: bytes) -> bytes:
    return _QP_HEX.sub(lambda m: bytes((int(m.group(1), 16),)), text.replace(b"_", b" "))


def _to_bytes(s: str) -> bytes:
    # Headers parsed from bytes keep undecodable bytes as lone surrogates; give them back.
    return s.encode("utf-8", "surrogateescape")


def _decode_raw_header(data: bytes) -> tuple[str, list[str]]:
    if data.isascii():
        if b"\x1b" in data:
            return decode_iso2022jp(data, "raw header")
        return data.decode("ascii"), []
    for codec in ("utf-8", "cp932"):
        try:
            return data.decode(codec), []
        except UnicodeDecodeError:
            continue
    text, how, _ = guess_decoding(data, exclude="utf-8")
    return text, [f"8-bit header decoded as {how}"]


def _tokens(value: str) -> Iterator[tuple[str, str | None, bytes]]:
    """(text, None, b"") for literal text, ("", charset, bytes) for an encoded word."""
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        if match.start() > pos:
            yield value[pos:match.start()], None, b""
        charset, encoding, payload = match.groups()
        raw = _to_bytes(payload)
        if encoding in "bB":
            decoded, _damaged = b64decode_lenient(raw)
        else:
            decoded = _q_decode(raw)
        yield "", charset.split("*", 1)[0], decoded
        pos = match.end()
    if pos < len(value):
        yield value[pos:], None, b""


def decode_header_value(value: str | bytes) -> tuple[str, list[str]]:
    """A header's text: RFC 2047 encoded words, raw 8-bit bytes and bare ISO-2022-JP all read."""
    try:
        return _decode_header_value(value)
    except Exception as exc:  # never raise
        log.exception("decode_header_value failed")
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        text = _BREAKS.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
        return _CONTROL.sub("", text), [f"header decoding failed ({exc!r})"]


def _decode_header_value(value: str | bytes) -> tuple[str, list[str]]:
    text = value.decode("ascii", "surrogateescape") if isinstance(value, (bytes, bytearray)) else str(value)
    text = _FOLD.sub("", text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    defects: list[str] = []
    parts: list[str] = []
    # Adjacent encoded words in one charset are joined as bytes first: clients cut words mid-character.
    pending_charset: str | None = None
    pending = bytearray()
    between = ""

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset is not None:
            decoded, problems = decode_bytes(bytes(pending), pending_charset)
            parts.append(decoded)
            defects.extend(problems)
        pending_charset = None
        pending.clear()

    for literal, charset, raw in _tokens(text):
        if charset is None:
            if pending_charset is not None and not literal.strip():
                between = literal  # whitespace between encoded words vanishes (RFC 2047 6.2)
                continue
            flush()
            decoded, problems = _decode_raw_header(_to_bytes(between + literal))
            between = ""
            parts.append(decoded)
            defects.extend(problems)
            continue
        between = ""
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            flush()
        pending_charset = charset if pending_charset is None else pending_charset
        pending += raw
    flush()
    if between:
        parts.append(between)
    result = _CONTROL.sub("", _BREAKS.sub(" ", "".join(parts)))
    return result, list(dict.fromkeys(defects))
