"""The header fields a ParsedMail carries as values: addresses, the date, message ids.

They are read from the decoded header text, leniently: a list ``getaddresses``
cannot parse still gives the addresses in it, and a date without a zone is UTC.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from email.message import Message

from parsers.mime.encoded_words import decode_header_value

__all__ = ["addresses", "mail_date", "first_id", "ids"]

_MSG_ID = re.compile(r"<([^<>]*)>")
_ADDR_SPEC = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_EMPTY_GROUP = re.compile(r"^\s*[^:<>@]*:\s*;?\s*$")  # "undisclosed-recipients:;"


def addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs of header ``name``; what could not be read goes to ``defects``."""
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
            defects.append(f"{name} header could not be parsed as addresses; took {', '.join(found)}")
            display = _ADDR_SPEC.sub("", decoded).strip(" <>\"',")
            pairs = [(display if i == 0 else "", a) for i, a in enumerate(found)]
        elif decoded.strip() and not _EMPTY_GROUP.match(decoded):
            defects.append(f"{name} header has no address: {decoded.strip()[:100]!r}")
    return pairs


def mail_date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        defects.append(f"unparseable Date header: {value[:80]!r}")
        return None
    if parsed.tzinfo is None:
        # "-0000" means UTC with the local zone unknown.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    found = (match.group(1) if match else value).strip()
    return re.sub(r"\s+", "", found) or None


def ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = [re.sub(r"\s+", "", m) for m in _MSG_ID.findall(value)]
    if not found:
        found = [token.strip("<>") for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(i for i in found if i))
