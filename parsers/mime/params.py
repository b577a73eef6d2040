"""Raw header values of a MIME part and their parameters (RFC 2231 sections and charsets, encoded words).

Read from the raw headers, not through the stdlib's accessors: those turn 8-bit
file names and parameters into U+FFFD.
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import unquote_to_bytes

from parsers.charsets import decode_bytes
from parsers.mime.encoded_words import decode_header_value

__all__ = ["raw_header", "param"]


def raw_header(part: Message, name: str) -> str | None:
    """The first raw value of a header, with 8-bit bytes kept as surrogates."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return re.sub(r"\r?\n[ \t]", " ", str(value))
    return None


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.S)
_SECTION = re.compile(r"^(.+?)\*(\d+)(\*?)$")


def param(part: Message, header: str, name: str) -> str | None:
    """A parameter of a raw header: RFC 2231 sections and charsets, encoded words, 8-bit bytes."""
    raw = raw_header(part, header)
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
