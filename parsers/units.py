"""Units of quantity as buyers and suppliers write them, and quantities read from text.

One table for every parser that reads quantities (mail answers to orders, fax
order sheets): ``ｹｰｽ``, ``ケース``, ``cs`` and ``cases`` are one unit, ``キロ``
is ``kg``. Counting units (ケース, 箱, 本 …) never convert into each other: how
many 本 are in a ケース depends on the product. Mass and volume convert within
their dimension (kg ↔ g, L ↔ mL).

Unit words are matched on text folded by ``parsers.normalize.fold_compact``
(NFKC, lower case, spaces only between ASCII words); ``UNIT_PATTERN`` is the
alternation to embed in such patterns, longest words first. English words need
a boundary after them ("5 g" is grams, "5 go" is not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

from parsers.normalize import fold_compact, fold_kana

__all__ = ["Dimension", "Unit", "Quantity", "UNITS", "UNIT_PATTERN", "NUMBER_PATTERN",
           "unit_of", "unit_like", "convert", "plain", "parse_number", "read_quantity"]


class Dimension(StrEnum):
    COUNT = "count"
    MASS = "mass"
    VOLUME = "volume"


@dataclass(frozen=True)
class Unit:
    code: str  # stable identifier: "case", "kg"
    label: str  # how it is written back in Japanese: "ケース", "kg"
    dimension: Dimension
    factor: Decimal  # in the dimension's base unit (g, mL); 1 for counting units
    words: tuple[str, ...] = field(repr=False)  # every spelling, folded (lower case, katakana)


def _unit(code: str, label: str, words: str, dimension: Dimension = Dimension.COUNT, factor: str = "1") -> Unit:
    return Unit(code, label, dimension, Decimal(factor), tuple(words.split()))


UNITS: tuple[Unit, ...] = (
    _unit("case", "ケース", "ケース ケ-ス cs c/s case cases ctn ctns carton cartons"),
    _unit("box", "箱", "箱 ハコ box boxes bx"),
    _unit("bottle", "本", "本 bottle bottles btl"),
    _unit("bag", "袋", "袋 フクロ bag bags"),
    _unit("piece", "個", "個 コ ヶ ケ pc pcs piece pieces"),  # 3ケ: ヶ written full size
    _unit("sheet", "枚", "枚 sheet sheets"),
    _unit("pack", "パック", "パック pack packs pk"),
    _unit("can", "缶", "缶 can cans"),
    _unit("head", "玉", "玉 head heads"),
    _unit("bunch", "束", "束 東 bunch bunches"),  # 東: fax OCR's reading of 束, and never a unit itself
    _unit("fish", "尾", "尾 匹"),
    _unit("block", "丁", "丁"),
    _unit("kg", "kg", "kg kgs キロ キログラム キロg kilo kilos kilogram kilograms", Dimension.MASS, "1000"),
    _unit("g", "g", "g gr グラム gram grams", Dimension.MASS, "1"),
    _unit("l", "L", "l ℓ リットル リッター liter liters litre litres ltr", Dimension.VOLUME, "1000"),
    _unit("ml", "mL", "ml ミリリットル cc milliliter milliliters millilitre millilitres", Dimension.VOLUME, "1"),
)

_BY_WORD: dict[str, Unit] = {word: unit for unit in UNITS for word in unit.words}
_ASCII = re.compile(r"^[a-z/]+$")
# Longest first, so "kg" wins over "g" and "キログラム" over "キロ"; ASCII words end at a word boundary.
UNIT_PATTERN = "|".join(
    re.escape(word) + (r"(?![a-z])" if _ASCII.match(word) else "")
    for word in sorted(_BY_WORD, key=len, reverse=True)
)
# A number as written in a quantity: "3", "1,200", "2.5"; the caller adds its own boundaries.
NUMBER_PATTERN = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_POWERS = {"十": 10, "百": 100, "千": 1000}
KANJI_NUMBER_PATTERN = "[〇零一二三四五六七八九十百千]+"
_QUANTITY = re.compile(rf"^(?P<number>{NUMBER_PATTERN}|{KANJI_NUMBER_PATTERN})\s*(?P<unit>{UNIT_PATTERN})?$")


@dataclass(frozen=True)
class Quantity:
    amount: Decimal
    unit: Unit | None  # None: a bare number


def _unit_word(word: str) -> str:
    return fold_kana(fold_compact(word)).strip(". ")


def unit_of(word: str) -> Unit | None:
    """The unit a word names ("ｹｰｽ", "Cases", "キロ", "ｋｇ"), or None."""
    return _BY_WORD.get(_unit_word(word))


# the spellings of three kana or more, which one misread character does not make another unit's
_LONG_KANA = tuple((spelling, unit) for spelling, unit in _BY_WORD.items()
                   if len(spelling) >= 3 and not _ASCII.match(spelling))


def unit_like(word: str) -> Unit | None:
    """The one unit with a spelling of three or more kana one character away from ``word`` (サース, パッケ: fax
    OCR's ケース and パック), or None. A guess: its caller doubts it."""
    folded = _unit_word(word)
    if len(folded) < 3:
        return None
    near = {unit for spelling, unit in _LONG_KANA if Levenshtein.distance(folded, spelling) == 1}
    return near.pop() if len(near) == 1 else None


def convert(amount: Decimal, from_unit: Unit, to_unit: Unit) -> Decimal | None:
    """``amount`` of ``from_unit`` in ``to_unit``; None when they do not convert (ケース into 個)."""
    if from_unit.code == to_unit.code:
        return amount
    if from_unit.dimension is Dimension.COUNT or from_unit.dimension is not to_unit.dimension:
        return None
    return plain(amount * from_unit.factor / to_unit.factor)


def plain(amount: Decimal) -> Decimal:
    """``amount`` without trailing zeros and never in exponent form: 2000, 0.5, 3."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


def parse_number(text: str) -> Decimal | None:
    """A number in digits ("1,200", "２．５") or small kanji numerals ("三", "十二", "百二十"), or None."""
    s = fold_compact(text).strip()
    if re.fullmatch(NUMBER_PATTERN, s):
        try:
            return Decimal(s.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            return None
    if not s or not re.fullmatch(KANJI_NUMBER_PATTERN, s):
        return None
    if all(ch in _KANJI_DIGITS for ch in s):  # positional: 二〇 = 20
        return Decimal("".join(str(_KANJI_DIGITS[ch]) for ch in s))
    total, digit = 0, None
    for ch in s:
        if ch in _KANJI_DIGITS:
            if digit is not None:
                return None  # 二三十: not a number
            digit = _KANJI_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _KANJI_POWERS[ch]
            digit = None
    return Decimal(total + (digit or 0))


def read_quantity(text: str) -> Quantity | None:
    """A quantity written alone, as in a cell of an order sheet: "３ケース", "2.5 kg", "1,200g", "三箱", "12"."""
    folded = fold_kana(fold_compact(text)).strip()
    match = _QUANTITY.match(folded)
    if not match:
        return None
    amount = parse_number(match.group("number"))
    if amount is None:
        return None
    return Quantity(amount, unit_of(match.group("unit")) if match.group("unit") else None)
