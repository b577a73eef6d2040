"""What one cell's words are: an item's name, a quantity and its unit, a yen number; as fax OCR misreads them.

The item table and the item lines both read these; a quantity that does not parse,
or parses only once a lookalike is put right (了 for 7, し for L), is doubted, and
a quantity of 0 or above ``MAX_QUANTITY`` is worth nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from parsers.faxorder.lines import another_reading, field_of, join
from parsers.faxorder.readings import Field
from parsers.normalize import fold_compact
from parsers.pagetext.page import Word
from parsers.units import NUMBER_PATTERN, Quantity, Unit, parse_number, read_quantity, unit_like, unit_of

MAX_QUANTITY = Decimal(10_000)

_YEN = re.compile(r"[¥￥\\円,，\s]|yen|jpy", re.I)

# Fax OCR's readings of a lone digit in a quantity cell: 7 as 了, 1 as ] or l, 0 as O.
_DIGIT_LOOKALIKES = str.maketrans({"了": "7", "]": "1", "】": "1", "|": "1", "l": "1", "I": "1", "O": "0", "o": "0",
                                   "〇": "0", "Z": "2", "z": "2"})

# a handwritten decimal point, a word of its own between the digits' words, read as a dot of another kind: 1 ● 5
_DECIMAL_DOT = re.compile(r"(?<=\d)\s*[●•・·.]\s*(?=\d)")

# Fax OCR's readings of a unit alone in its cell: L as し (the Japanese model's nearest shape), pcs as pes.
_UNIT_LOOKALIKES = {"し": "L", "レ": "L", "pes": "pcs", "pe": "pc", "pos": "pcs"}

_DASHES = frozenset("ーｰ一-‐―—…")


# --- item names --------------------------------------------------------------------------------


def item_text(text: str) -> str:
    """The item's name without a leading row number ("1", "1.", "①")."""
    return re.sub(r"^\s*(?:\d{1,3}(?:[.)．](?!\d)\s*|\s+)|[①-⑳]\s*)", "", text).strip()


def item_field(words: Sequence[Word], page: int, name: str) -> Field:
    """An item name's field, with the other names its words' other readings give (one word changed at a time)."""
    others = (item_text(join([*words[:i], replace(word, text=text), *words[i + 1:]]))
              for i, word in enumerate(words) for text in word.alternatives)
    return replace(field_of(words, page, name), alternatives=tuple(dict.fromkeys(o for o in others if o and o != name)))


def is_name(text: str) -> bool:
    """Whether ``text`` has two letters or kana, or a kanji (苺), and no more dashes: a name, not a rule's
    remains (ーー, |, ., and a dotted rule read as ーーーーデニーーーー)."""
    letters = [ch for ch in text if ch.isalpha() and ch not in _DASHES]
    return (len(letters) >= 2 or any(unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in letters)) \
        and len(letters) >= sum(ch in _DASHES for ch in text)


# --- numbers -----------------------------------------------------------------------------------


def money_digits(text: str) -> str:
    """A yen amount's digits: without ¥, 円 and commas, and with the thousands commas fax OCR reads as
    periods taken out (yen amounts have no decimals)."""
    return re.sub(r"[.](?=\d{3}(?!\d))", "", _YEN.sub("", fold_compact(text)))


def money_field(words: Sequence[Word], page: int) -> Field | None:
    if not words:
        return None
    text = join(words)
    number = parse_number(money_digits(text))
    if number is None:
        return field_of(words, page, None, reason=f"not a number: {text!r}")
    return field_of(words, page, str(number))


# --- quantities and units ----------------------------------------------------------------------


def _unit_guess(words: Sequence[Word]) -> Unit | None:
    """The one unit that OCR's readings of a unit cell come near (ﾊﾟｯｸ read のラク, and again ーック), or None."""
    readings = [join(words), *(words[0].alternatives if len(words) == 1 else ())]
    near = {unit for text in readings
            if (unit := unit_of(_UNIT_LOOKALIKES.get(fold_compact(text), text)) or unit_like(text)) is not None}
    return near.pop() if len(near) == 1 else None


def quantity_fields(words: Sequence[Word], unit_words: Sequence[Word], page: int) -> tuple[Field, Field | None]:
    text = join(words)
    read = _read_quantity(text) if words else None
    quantity, unit_guessed = read if read is not None else (None, False)
    repaired = None
    if quantity is None and words:
        # only the first word: "5 l" is five litres, and a unit may look like a digit; a dash at its end
        # ("2.5-") is a rule's remains
        first, _, rest = _DECIMAL_DOT.sub(".", text).partition(" ")
        repaired = " ".join(part for part in (first.translate(_DIGIT_LOOKALIKES).strip("-ーｰ_~"), rest) if part)
        quantity = read_quantity(repaired) if repaired != text else None
        if quantity is None and len(words) == 1 and (other := another_reading(words[0], read_quantity)):
            repaired, quantity = other  # a handwritten 9 read し4, and again 9
    unit_field: Field | None = None
    if unit_words:
        unit_text = join(unit_words)
        unit = unit_of(fold_compact(unit_text))
        unit_field = field_of(unit_words, page, unit.label if unit else None,
                              reason=None if unit else f"unknown unit {unit_text!r}")
        if unit is None and (guess := _unit_guess(unit_words)) is not None:
            unit_field = field_of(unit_words, page, guess.label).doubted(
                f"unit read as {unit_text!r}, taken as {guess.label!r}")
    if quantity is None:
        return field_of(words, page, None, reason=f"quantity unreadable: {text!r}" if words else "no quantity"), \
            unit_field
    if quantity.unit is not None and unit_field is None:
        unit_field = field_of(words, page, quantity.unit.label, text=text)
        if unit_guessed:
            unit_field = unit_field.doubted(f"unit read in {text!r} taken as {quantity.unit.label!r}")
    amount = quantity.amount
    value_field = field_of(words, page, str(amount))
    if (number := re.match(rf"\s*(?:{NUMBER_PATTERN})", words[0].text)) is not None:
        # as sure as OCR was of the number: the unit beside it ("1 バ" "ック") is a field of its own
        value_field = replace(value_field, confidence=words[0].conf_of(0, number.end()))
    if repaired is not None:
        value_field = value_field.doubted(f"quantity read as {text!r}, taken as {repaired!r}")
    if amount <= 0 or amount > MAX_QUANTITY:
        value_field = value_field.doubted(f"quantity {amount} out of range", 0.0)
    return value_field, unit_field


def split_trailing_quantity(words: Sequence[Word]) -> tuple[list[Word], list[Word], list[Word]] | None:
    """A name's words, then its quantity's and unit's: "3ケース" in one word, or a number then a unit in
    two or three (ﾊﾟｯｸ cut by OCR into "1 バ" and "ック"); the unit may be one kana off."""
    for n in (1, 2, 3):
        if len(words) > n and _read_quantity(join(words[-n:])) is not None:
            return list(words[:-n]), list(words[-n:]), []
    for n in (1, 2):  # a number, then a unit only OCR's other readings name
        if len(words) >= n + 2 and parse_number(words[-n - 1].text) is not None and _unit_guess(words[-n:]):
            return list(words[:-n - 1]), [words[-n - 1]], list(words[-n:])
    return None


def _read_quantity(text: str) -> tuple[Quantity, bool] | None:
    """``read_quantity``, else a number and a unit one kana off ("1 バック"): the quantity, and whether its
    unit is that guess."""
    if (quantity := read_quantity(text)) is not None:
        return quantity, False
    match = re.fullmatch(rf"(?P<number>{NUMBER_PATTERN})\s*(?P<unit>\S+)", fold_compact(text))
    if match and (unit := unit_like(match["unit"])) is not None and (number := parse_number(match["number"])):
        return Quantity(number, unit), True
    return None
