"""References printed on our paper (letters, order sheets) and in their QR codes: ``TORII-<KIND>-<id>-<check>``.

The kinds: ``TORII-INV`` invitations (``workflows.letters``), ``TORII-ORD`` orders and
``TORII-FRM`` buyers' order forms (``workflows.order_documents``).

The check is 6 characters of the credential alphabet taken from an HMAC of the
kind and the ID (~27 bits), so a forged or mistyped reference does not parse.
Parsing tolerates what OCR and typing do: full-width characters, lower case,
spaces or no dashes, and O/I/L/S/B/Z/G read for the digits they look like.

A paged form prints a page code on every page, ``<reference>-<page, 2 digits><page check>``
(``TORII-ORD-123-K7M2PX-01A``): the page check is one character that needs no secret; it
catches an OCR misreading of the page number, not a forgery (a forged page of a genuine
reference gains nothing its holder could not write).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterator

from parsers.credential_text import ALPHABET, normalize_credential

CHECK_LENGTH = 6
OCR_DIGITS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8",
                            "Z": "2", "G": "6"})
SEP = r"[\s\-_.\u2010-\u2015\u2212\u30fc]*"
DIGIT = "[0-9OQDIL|SBZG]"
# How OCR misreads each letter of a kind (the kinds are capitals only).
_LETTER = {"O": "[O0Q]", "I": "[I1L|]", "L": "[L1I|]", "S": "[S5]", "B": "[B8]", "Z": "[Z2]", "G": "[G6]"}


class ReferenceScheme:
    """One kind of reference: ``TORII-INV`` for invitations, ``TORII-ORD`` for orders, ``TORII-FRM`` for order forms."""

    def __init__(self, kind: str, hmac_label: str) -> None:
        self.prefix = f"TORII-{kind}"
        self.hmac_label = hmac_label
        kind_pattern = "".join(_LETTER.get(c, c) for c in kind)
        # group 1: the ID's digits; group 2: the check; what follows is the caller's (a page code).
        self.pattern = rf"T[O0Q]R[I1L|]{{2}}{SEP}{kind_pattern}{SEP}({DIGIT}{{1,12}}?){SEP}([A-Z0-9]{{{CHECK_LENGTH}}})"
        self._whole = re.compile(rf"{self.pattern}(?![A-Z0-9])")
        # groups 3 and 4: the page's two digits and their check
        self._page = re.compile(rf"{self.pattern}{SEP}({DIGIT}{{2}})([A-Z0-9])(?![A-Z0-9])")

    def check(self, object_id: int, secret: bytes) -> str:
        digest = hmac.new(secret, f"{self.hmac_label}:{object_id}".encode("ascii"), hashlib.sha256).digest()
        number = int.from_bytes(digest[:8], "big")
        chars = []
        for _ in range(CHECK_LENGTH):
            number, index = divmod(number, len(ALPHABET))
            chars.append(ALPHABET[index])
        return "".join(chars)

    def make(self, object_id: int, secret: bytes) -> str:
        if object_id < 0:
            raise ValueError("a reference names a non-negative ID")
        return f"{self.prefix}-{object_id}-{self.check(object_id, secret)}"

    def genuine(self, match: re.Match[str], secret: bytes) -> int | None:
        """The ID a match of ``pattern`` names, if its check is right."""
        digits = match.group(1).translate(OCR_DIGITS)
        if not digits.isdigit():
            return None
        object_id = int(digits)
        return object_id if hmac.compare_digest(normalize_credential(match.group(2)),
                                                self.check(object_id, secret)) else None

    def parse(self, text: object, secret: bytes) -> int | None:
        """The ID of the first genuine reference in ``text`` (a QR payload, OCR output, a subject), else None."""
        for match in self._whole.finditer(fold(text)):
            object_id = self.genuine(match, secret)
            if object_id is not None:
                return object_id
        return None

    def parse_any(self, text: object, secret: bytes) -> int | None:
        """The ID of the first genuine reference in ``text``, else of the first genuine page code, else None."""
        found = self.parse(text, secret)
        if found is not None:
            return found
        page = self.parse_page_code(text, secret)
        return page[0] if page else None

    def parse_page_code(self, text: object, secret: bytes) -> tuple[int, int] | None:
        """(ID, page) of the first genuine page code in ``text``, else None. Page and its check must agree."""
        for match in matches(self._page, text):
            object_id = self.genuine(match, secret)
            if object_id is None:
                continue
            digits = match.group(3).translate(OCR_DIGITS)
            if not digits.isdigit() or int(digits) < 1:
                continue
            page = int(digits)
            if normalize_credential(match.group(4)) == _page_check(self.make(object_id, secret), page):
                return object_id, page
        return None


def page_code(reference: str, page: int) -> str:
    """The code printed on page ``page`` (1-based) of a paged form: ``<reference>-<page, 2 digits><check>``."""
    if not 1 <= page <= 99:
        raise ValueError("a form has pages 1 to 99")
    return f"{reference}-{page:02d}{_page_check(reference, page)}"


def _page_check(reference: str, page: int) -> str:
    digest = hashlib.sha256(f"{reference}/{page}".encode("ascii")).digest()
    return ALPHABET[digest[0] % len(ALPHABET)]


def fold(text: object) -> str:
    return unicodedata.normalize("NFKC", text).upper() if isinstance(text, str) else ""


def matches(pattern: re.Pattern[str], text: object) -> Iterator[re.Match[str]]:
    return pattern.finditer(fold(text))
