"""Checking catalog records field by field: one set of checks for the API and for CSV files.

Each check takes a raw value (a JSON value or a CSV cell) and returns it clean, or raises
``Bad``; a ``Form`` runs the checks of one kind of record and the checks across its fields.
Only how a problem is reported differs between the API (``clean_body``) and CSV import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.normalize import name_key
from workflows.errors import InvalidRequest

MAX_YEN = 999_999_999


class Channel(StrEnum):
    """How a supplier prefers to receive orders."""

    FAX = "fax"
    MAIL = "mail"


class _Bad(ValueError):
    """A value is wrong; the message says what, without naming the field."""


Check = Callable[[object], Any]


def _str(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad("must be text")
    return value.strip()  # str.strip takes the ideographic space (U+3000) too


def _text(max_len: int, *, required: bool = False, multiline: bool = False) -> Check:
    def check(value: object) -> str:
        text = _str(value)
        if required and not text:
            raise _Bad("is required")
        if not multiline and ("\n" in text or "\r" in text):
            raise _Bad("must be one line (an unclosed \" quote in a CSV file makes a cell run on)")
        if len(text) > max_len:
            raise _Bad(f"is longer than {max_len} characters")
        return text.replace("\r\n", "\n")
    return check


def _name(value: object) -> str:
    name: str = _text(255, required=True)(value)
    if not name_key(name):
        raise _Bad("is required")
    if len(name_key(name)) > 255:
        raise _Bad("is longer than 255 characters once normalized")
    return name


def _email(*, required: bool = False) -> Check:
    def check(value: object) -> str | None:
        text = unicodedata.normalize("NFKC", _str(value))  # ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ from an IME
        if not text:
            if required:
                raise _Bad("is required")
            return None
        # The rule of workflows.invitation: local@domain.tld, no spaces.
        local, at, domain = text.rpartition("@")
        if not at or not local or "." not in domain or " " in text or len(text) > 320:
            raise _Bad(f"{text!r} is not an email address")
        return text
    return check


def _fax(value: object) -> str | None:
    text = _str(value)
    if not text:
        return None
    try:
        return normalize_fax_number(text)
    except BadFaxNumber as exc:
        digits = unicodedata.normalize("NFKC", text)
        hint = (" (a spreadsheet may have dropped the leading 0: format the column as text)"
                if digits.isdigit() and len(digits) in (9, 10) else "")
        raise _Bad(f"{exc}{hint}") from exc


def fold(value: str) -> str:
    """A word as people type it, compared without width, case, spaces or separators (ＦＡＸ, e-mail)."""
    return re.sub(r"[\s_\-・]", "", unicodedata.normalize("NFKC", value)).casefold()


def _one_of(words: Mapping[str, object], hint: str) -> Check:
    """One of a few words, however it is typed (ＦＡＸ, Fax, 日本語); ``hint`` says what may be written."""
    def check(value: object) -> object | None:
        text = _str(value)
        if not text:
            return None
        found = words.get(fold(text))
        if found is None:
            raise _Bad(f"{text!r} is not {hint}")
        return found
    return check


_CHANNELS = {
    **dict.fromkeys(["fax", "ファックス", "ファクス", "ファクシミリ"], Channel.FAX),
    **dict.fromkeys(["mail", "email", "メール", "eメール", "電子メール"], Channel.MAIL),
}


_LANGUAGE_WORDS = {"ja": "ja", "jp": "ja", "日本語": "ja", "japanese": "ja",
                   "en": "en", "英語": "en", "english": "en"}


# A buyer's user's role (workflows.access.ROLES), as a CSV file or an API body may write it.
_ROLE_WORDS = {**dict.fromkeys(["viewer", "閲覧", "閲覧者", "閲覧のみ"], "viewer"),
               **dict.fromkeys(["operator", "user", "担当", "担当者", "一般", "利用者", "発注者"], "operator"),
               **dict.fromkeys(["admin", "administrator", "管理者", "管理"], "admin")}

_channel = _one_of(_CHANNELS, "a channel: write FAX or メール (fax or mail)")
_role = _one_of(_ROLE_WORDS, "a role: viewer, operator or admin (閲覧者, 担当者 or 管理者)")
_language = _one_of(_LANGUAGE_WORDS, "a language: ja or en (日本語 or 英語)")


def _yen(value: object) -> int | None:
    """Whole yen: 1200, "1,200", "１，２００", "¥1,200", "1200円"; None or "" for no price."""
    if isinstance(value, bool):
        raise _Bad("must be a price in yen")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _Bad(f"{value} is not a price in whole yen")
        amount = int(value)
    else:
        text = _str(value)
        if not text:
            return None
        # NFKC makes ￥ into ¥; CP932 files carry the yen sign as a backslash (0x5C).
        digits = re.sub(r"[\s¥\\円]|^JPY", "", unicodedata.normalize("NFKC", text), flags=re.I)
        if not re.fullmatch(r"\d+|\d{1,3}(,\d{3})+", digits):  # commas only as thousands separators
            raise _Bad(f"{text!r} is not a price in whole yen (write 1200, 1,200 or ¥1,200)")
        amount = int(digits.replace(",", ""))
    if not 0 <= amount <= MAX_YEN:
        raise _Bad(f"{amount} is not a price in yen between 0 and {MAX_YEN:,}")
    return amount


def _postal_code(value: object) -> str:
    text = unicodedata.normalize("NFKC", _str(value)).lstrip("〒").strip()
    if re.fullmatch(r"\d{7}", text):
        text = f"{text[:3]}-{text[3:]}"
    if len(text) > 16 or "\n" in text:
        raise _Bad(f"{text!r} is not a postal code")
    return text


def _phone(value: object) -> str:
    text = unicodedata.normalize("NFKC", _str(value))
    if len(text) > 32 or "\n" in text:
        raise _Bad(f"{text!r} is not a phone number")
    return text


@dataclass(frozen=True)
class Form:
    """The fields of one kind of record, their checks, and the checks across fields."""

    fields: Mapping[str, Check]
    across: Callable[[dict[str, Any]], list[tuple[str, str]]] = lambda _clean: []

    def clean(self, values: Mapping[str, object]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The clean values, and (field, message) for each problem."""
        clean: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for field, check in self.fields.items():
            try:
                clean[field] = check(values.get(field))
            except _Bad as exc:
                problems.append((field, str(exc)))
        return clean, problems + self.across(clean)  # `across` skips fields whose own check failed


def _supplier_across(clean: dict[str, Any]) -> list[tuple[str, str]]:
    if not {"channel", "fax", "email"} <= clean.keys():
        return []
    fax, email, channel = clean["fax"], clean["email"], clean["channel"]
    if channel is None:
        if fax and email:
            return [("channel", "both a fax number and an email are given: say which to send orders by "
                                "(FAX or メール)")]
        if not fax and not email:
            return [("fax", "a supplier needs a fax number or an email address")]
        clean["channel"] = Channel.FAX if fax else Channel.MAIL
    elif channel == Channel.FAX and not fax:
        return [("fax", "orders go by fax (channel FAX) but no fax number is given")]
    elif channel == Channel.MAIL and not email:
        return [("email", "orders go by mail (channel メール) but no email address is given")]
    return []


BUYER = Form({"name": _name, "email": _email(required=True), "phone": _phone, "fax": _fax,
               "language": _language})
ADDRESS = Form({"name": _name, "postal_code": _postal_code, "address": _text(2000, required=True, multiline=True),
                 "phone": _phone, "recipient": _text(255)})
SUPPLIER = Form({"name": _name, "contact_name": _text(255), "email": _email(), "fax": _fax, "channel": _channel,
                  "language": _language}, _supplier_across)
PRODUCT = Form({"name": _name, "unit": _text(32), "unit_price": _yen, "note": _text(2000, multiline=True)})
BUSINESS = Form({"name": _name, "email": _email(required=True), "phone": _phone, "fax": _fax,
                  "language": _language})
# A buyer's user as invited: the person's name may be left for them to give when they accept.
USER = Form({"email": _email(required=True), "name": _text(255), "role": _role, "language": _language})
# A row of a products CSV names the product's supplier too.
PRODUCT_ROW = Form({"supplier": _name, **PRODUCT.fields})


def clean_body(form: Form, body: object, *, where: str = "", extra: Sequence[str] = ()) -> dict[str, Any]:
    """An API body checked against a form; unknown keys are refused so that a typo loses nothing."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"{where or 'the body'} must be an object")
    unknown = sorted(set(body) - set(form.fields) - set(extra))
    problems = [(key, f"unknown field; the fields are {', '.join(form.fields)}") for key in unknown]
    clean, found = form.clean(body)
    problems += found
    if problems:
        raise InvalidRequest("; ".join(f"{where}{field}: {message}" for field, message in problems))
    return clean
