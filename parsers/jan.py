"""JAN codes (GTINs) and the JAN maker code a company applies for its ID with.

A JAN maker code (JANメーカーコード, now GS1事業者コード; GS1 Company Prefix) is the number GS1 Japan
lends a company: 7 digits for prefixes lent before 2001, 9 since then, 10 for the newest, always
starting with Japan's 45 or 49. The company's JAN codes (GTIN-13) are that prefix, an item number
filling up to 12 digits, and a check digit.

The application form asks for the maker code, but applicants often copy a whole JAN code off a
package instead. ``read_maker_code`` takes both:

- 7, 9 or 10 digits: the maker code as written (``source="maker_code"``).
- 13 digits (JAN, EAN-13): the check digit must hold, and the code proves the company owns a Japanese
  prefix, but not how long that prefix is. The first 9 digits are kept, the length GS1 Japan has
  lent since 2001, and ``candidates`` lists the 7-, 9- and 10-digit heads for the desk to check
  against GS1 Japan's register (``source="jan13"``).
- 14 digits (GTIN-14, the ITF-14 on a case): an indicator digit and a GTIN-13's first 12 digits, read
  as that GTIN-13 (``source="gtin14"``).
- 8 digits (short JAN, GTIN-8) and 12 (UPC-A) are refused even with a good check digit: a GTIN-8 is
  lent per item and carries no company prefix, and a UPC-A is a US or Canadian number (as an EAN-13
  it starts with 0), never GS1 Japan's.

Every refusal is an ``InvalidJanCode`` with its reason in Japanese and in English for the applicant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from parsers.errors import ParserError
from parsers.normalize import normalize_text

__all__ = [
    "DERIVED_LENGTH",
    "GTIN_LENGTHS",
    "JAPAN_PREFIXES",
    "MAKER_CODE_LENGTHS",
    "InvalidJanCode",
    "MakerCode",
    "Source",
    "check_digit",
    "is_valid_gtin",
    "read_maker_code",
]

MAKER_CODE_LENGTHS = (7, 9, 10)
GTIN_LENGTHS = (8, 12, 13, 14)
JAPAN_PREFIXES = ("45", "49")
# Most companies have held a 9-digit prefix since 2001; a full code alone cannot say more.
DERIVED_LENGTH = 9

Source = Literal["maker_code", "jan13", "gtin14"]

# Between digit groups people write spaces and hyphens, and a Japanese IME types ー for "-".
# (NFKC has already made full-width digits, ｰ and － ASCII-like before this is applied.)
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]+")
# ASCII only: \d would also take Arabic-Indic and other digits that NFKC leaves alone.
_DIGITS = re.compile(r"[0-9]+")

# Prefixes that belong to no company, told apart so the refusal says what the code is instead.
# They are tested before "45 or 49?", as 491 is a Japanese prefix lent to no one.
_NOT_A_COMPANY: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("978", "979"),
     "978・979で始まるコードは書籍のISBN（書籍JANコード）で、JANメーカーコードではありません",
     "a code starting with 978 or 979 is a book's ISBN, not a JAN maker code"),
    (("977",),
     "977で始まるコードは逐次刊行物のISSNで、JANメーカーコードではありません",
     "a code starting with 977 is a serial's ISSN, not a JAN maker code"),
    (("491",),
     "491で始まるコードは雑誌の定期刊行物コードで、JANメーカーコードではありません",
     "a code starting with 491 is a Japanese magazine code, not a JAN maker code"),
    (("192",),
     "192で始まるコードは書籍JANコードの2段目（分類と価格）で、JANメーカーコードではありません",
     "a code starting with 192 is the second bar code of a Japanese book (its class and price), "
     "not a JAN maker code"),
    (("02", "04", *(str(n) for n in range(20, 30))),
     "02・04・20〜29で始まるコードは店舗や社内で使うインストアコードで、JANメーカーコードではありません",
     "a code starting with 02, 04 or 20 to 29 is an in-store code, not a JAN maker code"),
)


class InvalidJanCode(ParserError, ValueError):
    """A text that is not a JAN maker code (or GTIN) this desk accepts, with the reason in two languages.

    ``reason_ja`` goes to the applicant on the Japanese form, ``reason_en`` to the English one; ``text``
    is what was written. A ``ValueError`` too, as callers validating input catch that.
    """

    def __init__(self, text: str, reason_ja: str, reason_en: str) -> None:
        super().__init__(f"{reason_ja} / {reason_en}")
        self.text = text
        self.reason_ja = reason_ja
        self.reason_en = reason_en


@dataclass(frozen=True)
class MakerCode:
    """A JAN maker code read off an application: its ``digits`` and what they were read from.

    ``full_code`` is the JAN (or GTIN-14) written when the maker code was taken from one.
    """

    digits: str
    source: Source = "maker_code"
    full_code: str | None = None

    @property
    def length(self) -> int:
        return len(self.digits)

    @property
    def candidates(self) -> tuple[str, ...]:
        """The maker codes the text may mean: itself as written, or each possible head of a full code."""
        if self.full_code is None:
            return (self.digits,)
        gtin13_head = self.full_code[-13:]
        return tuple(gtin13_head[:n] for n in MAKER_CODE_LENGTHS)


def read_maker_code(text: str) -> MakerCode:
    """The JAN maker code in ``text`` (``４９１２３４５-６７８``, ``4912345678904``, ...), or InvalidJanCode."""
    digits = _digits_of(text)
    n = len(digits)
    if n in MAKER_CODE_LENGTHS:
        _require_japanese_company(text, digits)
        return MakerCode(digits)
    if n == 13:
        _require_check_digit(text, digits)
        _require_japanese_company(text, digits)
        return MakerCode(digits[:DERIVED_LENGTH], "jan13", digits)
    if n == 14:
        _require_check_digit(text, digits)
        _require_japanese_company(text, digits[1:])
        return MakerCode(digits[1:1 + DERIVED_LENGTH], "gtin14", digits)
    if n == 8:
        _require_check_digit(text, digits)
        raise InvalidJanCode(text, "短縮タイプ（8桁）のJANコードにはJANメーカーコードが含まれていません。"
                                   "13桁のJANコードかJANメーカーコードを書いてください",
                             "a short (8-digit) JAN code carries no maker code: give a 13-digit JAN code or "
                             "the maker code itself")
    if n == 12:
        if digits.startswith(JAPAN_PREFIXES):
            # 45/49 as a UPC-A would be an in-store number: this is a JAN code that lost a digit.
            raise InvalidJanCode(text, "JANコードは13桁です（12桁しかありません。"
                                       "最後のチェックデジットが抜けていませんか）",
                                 "a JAN code has 13 digits, this has 12: is the last (check) digit missing?")
        _require_check_digit(text, digits)
        raise _upc_refusal(text)
    raise InvalidJanCode(text, f"JANメーカーコードは7桁・9桁・10桁、JANコードは13桁です（{n}桁でした）",
                         f"a JAN maker code has 7, 9 or 10 digits and a JAN code 13 ({n} given)")


def check_digit(digits: str) -> int:
    """The GS1 check digit of a GTIN-8, -12, -13 or -14 written without it (7, 11, 12 or 13 ASCII digits).

    Weights 3 and 1 alternate from the right, the digit next to the check digit weighing 3 (for a
    GTIN-13 that is 1, 3, 1, 3, ... from the left); the check digit brings the sum to a multiple of 10.
    """
    if len(digits) + 1 not in GTIN_LENGTHS or not _DIGITS.fullmatch(digits):
        raise InvalidJanCode(digits, "チェックデジットを計算できるのは7・11・12・13桁の数字です",
                             "a check digit is computed over 7, 11, 12 or 13 digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return -total % 10


def is_valid_gtin(text: str) -> bool:
    """Whether ``text`` is a GTIN-8, -12, -13 or -14 with a good check digit, written as read_maker_code reads.

    Says nothing of whose code it is: a UPC-A or a foreign EAN-13 is valid here.
    """
    try:
        digits = _digits_of(text)
    except InvalidJanCode:
        return False
    return len(digits) in GTIN_LENGTHS and check_digit(digits[:-1]) == int(digits[-1])


def _digits_of(text: str) -> str:
    stripped = _SEPARATORS.sub("", normalize_text(text))
    if not stripped:
        raise InvalidJanCode(text, "JANメーカーコードが書かれていません", "no JAN maker code was given")
    if not _DIGITS.fullmatch(stripped):
        bad = next(c for c in stripped if not "0" <= c <= "9")
        raise InvalidJanCode(text, f"JANメーカーコードは数字だけで書いてください（「{bad}」は数字ではありません）",
                             f"a JAN maker code is digits only ({bad!r} is not a digit)")
    return stripped


def _require_check_digit(text: str, digits: str) -> None:
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InvalidJanCode(text, f"チェックデジット（最後の桁）が合いません。書き写し間違いがないか確かめてください"
                                   f"（この番号なら最後は{expected}です）",
                             f"the check digit (the last one) does not match: please check for a copying mistake "
                             f"(these digits would end in {expected})")


def _require_japanese_company(text: str, code: str) -> None:
    """Refuses ``code`` (a maker code or a GTIN-13) unless it starts as a company prefix GS1 Japan lends."""
    for prefixes, reason_ja, reason_en in _NOT_A_COMPANY:
        if code.startswith(prefixes):
            raise InvalidJanCode(text, reason_ja, reason_en)
    if code.startswith(JAPAN_PREFIXES):
        return
    if len(code) == 13 and code.startswith("0"):
        raise _upc_refusal(text)
    raise InvalidJanCode(text, f"JANメーカーコードは日本の「45」か「49」で始まります（「{code[:2]}」で始まっています）",
                         f"a JAN maker code starts with Japan's 45 or 49 (this starts with {code[:2]})")


def _upc_refusal(text: str) -> InvalidJanCode:
    return InvalidJanCode(text, "UPCコードは米国・カナダのコードで、JANメーカーコードになりません。"
                                "日本（45・49で始まる）のJANコードかJANメーカーコードを書いてください",
                          "a UPC code is a US or Canadian number, not a JAN maker code: give a Japanese (45 or 49) "
                          "JAN code or maker code")
