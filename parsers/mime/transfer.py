"""Content-Transfer-Encodings undone leniently: base64 with junk, quoted-printable, uuencode, unknown ones.

Base64 is also how RFC 2047 encodes header words, so the lenient decoder serves
``encoded_words`` too.
"""

from __future__ import annotations

import binascii
import re

__all__ = ["b64decode_lenient", "undo_transfer_encoding"]

_CTE = re.compile(r"[a-z0-9-]+")


def b64decode_lenient(data: bytes) -> tuple[bytes, bool]:
    """Base64 that survives junk characters, missing padding and concatenated padded chunks."""
    cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", data)
    damaged = len(cleaned) != len(re.sub(rb"\s", b"", data))
    out = bytearray()
    for chunk in re.findall(rb"[A-Za-z0-9+/]+=*", cleaned):
        body = chunk.rstrip(b"=")
        if len(body) % 4 == 1:
            body = body[:-1]
            damaged = True
        body += b"=" * (-len(body) % 4)
        try:
            out += binascii.a2b_base64(body)
        except (binascii.Error, ValueError):
            damaged = True
    return bytes(out), damaged


def undo_transfer_encoding(raw: bytes, header: str | None, defects: list[str]) -> bytes:
    """``raw`` with the Content-Transfer-Encoding named in ``header`` undone; damage goes to ``defects``."""
    cte_value = (header or "").strip().lower()
    match = _CTE.match(cte_value)
    cte = match.group() if match else ""
    if cte in ("", "7bit", "8bit", "binary") or cte.startswith(("7bit", "8bit")):
        return raw
    if cte in ("base64", "base-64", "x-base64"):
        data, damaged = b64decode_lenient(raw)
        if damaged:
            defects.append("base64 body with junk characters or cut short; decoded what could be")
        return data
    if cte in ("quoted-printable", "quotedprintable", "qp"):
        return binascii.a2b_qp(raw)
    if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        return _uudecode(raw, defects)
    defects.append(f"unknown Content-Transfer-Encoding {cte_value[:40]!r}; body kept undecoded")
    return raw

def _uudecode(raw: bytes, defects: list[str]) -> bytes:
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
        defects.append("x-uuencode body without a 'begin' line; kept undecoded")
        return raw
    if damaged:
        defects.append("uuencoded body damaged; decoded what could be")
    return bytes(out)
