"""Fax numbers as partners and fax services write them, in one form: E.164 (``+81312345678``)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["BadFaxNumber", "domestic_form", "normalize_fax_number"]


class BadFaxNumber(ValueError):
    """Raised when a text is not a fax number this gateway can dial."""


_DIGITS_ONLY = re.compile(r"[^\d+]")


def normalize_fax_number(text: str) -> str:
    """A fax number in E.164 form: ``０３（１２３４）５６７８`` or ``+81 3 1234 5678`` → ``+81312345678``.

    Numbers abroad keep their ``+`` form; a domestic number must start with 0 and have
    10 or 11 digits (a trunk prefix and 9 or 10 digits).
    """
    raw = unicodedata.normalize("NFKC", text).strip()
    raw = re.sub(r"^(fax|tel)\s*[:：]?\s*", "", raw, flags=re.I)
    digits = _DIGITS_ONLY.sub("", raw)
    if digits.startswith("+"):
        national = digits[1:]
    elif digits.startswith("00"):  # international call prefix
        national = digits[2:]
    elif digits.startswith("0"):
        if len(digits) not in (10, 11):
            raise BadFaxNumber(f"{text!r}: a Japanese number has 10 or 11 digits")
        return "+81" + digits[1:]
    else:
        raise BadFaxNumber(f"{text!r} is not a fax number")
    if "+" in national or not 8 <= len(national) <= 15:
        raise BadFaxNumber(f"{text!r} is not a fax number")
    if national.startswith("810"):  # +81 0 3 ...: the trunk 0 written after the country code
        national = "81" + national[3:]
    return "+" + national


def domestic_form(e164: str) -> str:
    """``+81312345678`` → ``0312345678``: what Japanese fax services expect in their addresses."""
    return "0" + e164[3:] if e164.startswith("+81") else e164.lstrip("+")
