"""Faxes coming in: which number sent the fax a fax-to-email delivery carries, and whether a file is a fax.

A fax service delivers each received fax as a mail with the pages attached (PDF or
TIFF) and says who sent it somewhere of its own choosing: in the subject
(``FAX受信 送信元:03-5555-0101``, ``Fax from +81355550101``), in a header
(``X-Fax-From``), in the attachment's name (``fax_0355550101_20261121.pdf``) or in
the body. A *profile* says, for the services whose mails match its ``from``
pattern, where to look; the built-in generic profile looks everywhere, in that
order. Deployments add their services' profiles in a JSON file
(``TORII_FAX_SERVICES``)::

    [{"name": "hikari-fax", "from": "@fax\\\\.example\\\\.jp$",
      "sender": [{"in": "subject", "pattern": "発信元[:：]\\\\s*(\\\\S+)"},
                 {"in": "header", "name": "X-Caller-Id"}]}]

``in`` is one of subject, header, filename, body; ``pattern`` (optional for
headers) has one group around the number. The number is read by
``normalize_fax_number`` (E.164); what does not read as a dialable number is
skipped, and the next place is tried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from parsers.errors import ParserError
from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.mime.parsed_mail import ParsedMail

Where = Literal["subject", "header", "filename", "body"]

# A phone number as fax services print it: 03-5555-0101, 0355550101, +81 3 5555 0101, （03）5555-0101.
_GROUP = r"(?:[(（][0-9０-９]{1,5}[)）]|[0-9０-９]{1,5})"
# A space separates groups only before two digits or after the country code: "0355550108 2 pages" is one number.
NUMBER = rf"[+＋]?{_GROUP}(?:(?:[\-－‐ー]|(?<=81)\s|\s(?=[0-9０-９]{{2}}))?{_GROUP}){{1,5}}"
_LABELLED = (rf"(?:from|送信元|発信元|発信者|差出人|相手先|caller[\s\-_]?id|csid|tsi|fax\s*(?:no\.?|番号)?)"
             rf"\s*[:：=]?\s*(?:fax\s*[:：]?\s*)?[\"'「]?({NUMBER})")
# In a file name the number stands alone between separators: not the 8 digits of a date.
_IN_FILENAME = r"(?:^|[_\-\s.])((?:\+?81|0)\d{9,10})(?=[_\-\s.]|$)"


@dataclass(frozen=True)
class SenderRule:
    where: Where
    pattern: re.Pattern[str] | None = None
    header: str = ""


@dataclass(frozen=True)
class FaxService:
    name: str
    from_pattern: re.Pattern[str] | None  # None: any sender
    rules: tuple[SenderRule, ...]


GENERIC = FaxService("generic", None, (
    SenderRule("header", None, "X-Fax-From"),
    SenderRule("header", None, "X-Fax-Sender"),
    SenderRule("header", None, "X-Caller-ID"),
    SenderRule("subject", re.compile(_LABELLED, re.I)),
    SenderRule("filename", re.compile(_IN_FILENAME)),
    SenderRule("body", re.compile(_LABELLED, re.I)),
))


class BadFaxServices(ParserError):
    """The fax service profiles file cannot be used; the message says where it is wrong."""


def load_services(path: Path | None) -> tuple[FaxService, ...]:
    """The profiles of ``path`` (tried in order), then the generic one."""
    if path is None:
        return (GENERIC,)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadFaxServices(f"{path}: {exc}") from exc
    if not isinstance(raw, list):
        raise BadFaxServices(f"{path}: expected a list of profiles")
    services = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        try:
            rules = tuple(_rule(rule) for rule in item["sender"])
            services.append(FaxService(str(item["name"]), re.compile(item["from"], re.I) if item.get("from") else None,
                                       rules))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise BadFaxServices(f"{where}: {exc!r}") from exc
    return (*services, GENERIC)


def _rule(raw: dict[str, str]) -> SenderRule:
    where = raw["in"]
    if where not in ("subject", "header", "filename", "body"):
        raise ValueError(f"'in' must be subject, header, filename or body, not {where!r}")
    pattern = re.compile(raw["pattern"], re.I) if raw.get("pattern") else None
    if pattern is None and where != "header":
        raise ValueError(f"a {where} rule needs a pattern")
    if pattern is not None and pattern.groups != 1:
        raise ValueError("a pattern has exactly one group, around the number")
    return SenderRule(where, pattern, raw.get("name", ""))  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaxSender:
    number: str | None  # E.164
    service: str
    found_in: str  # "subject", "header X-Fax-From", ... or why nothing was found


def fax_sender(mail: ParsedMail, services: Sequence[FaxService]) -> FaxSender:
    """Who sent the fax this delivery carries, by the first profile whose ``from`` matches the mail's sender."""
    sender = (mail.from_addr or "").lower()
    for service in services:
        if service.from_pattern is not None and not service.from_pattern.search(sender):
            continue
        for rule in service.rules:
            for text in _texts(mail, rule):
                number = _number(text, rule.pattern)
                if number is not None:
                    where = f"header {rule.header}" if rule.where == "header" else rule.where
                    return FaxSender(number, service.name, where)
        return FaxSender(None, service.name, "no sender number in the delivery")
    return FaxSender(None, "none", "no fax service profile matches the sender")


def _texts(mail: ParsedMail, rule: SenderRule) -> list[str]:
    if rule.where == "subject":
        return [mail.subject]
    if rule.where == "header":
        return [value for name, value in mail.headers if name.lower() == rule.header.lower()]
    if rule.where == "filename":
        return [a.filename for a in mail.attachments if a.filename]
    return [mail.text]


def _number(text: str, pattern: re.Pattern[str] | None) -> str | None:
    candidates = [m.group(1) for m in pattern.finditer(text)] if pattern is not None else [text]
    for candidate in candidates:
        try:
            return normalize_fax_number(candidate)
        except BadFaxNumber:
            continue
    return None


_FAX_FILES = {b"%PDF": ("application", "pdf"), b"II*\x00": ("image", "tiff"), b"MM\x00*": ("image", "tiff")}


def fax_file_type(data: bytes) -> tuple[str, str] | None:
    """(maintype, subtype) when the bytes are a PDF or TIFF (not a mail), else None."""
    head = data[:1024].lstrip()
    for magic, kind in _FAX_FILES.items():
        if head.startswith(magic):
            return kind
    return None
