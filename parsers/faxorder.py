"""read_free_form: a buyer's own order sheet, read from the words on its pages.

The pages come from ``parsers.pagetext`` (a text layer, or OCR): words with their
place in mm and a confidence. Buyers' sheets differ in everything but their parts,
which this module looks for by their labels and their shape:

- the item table: a header line naming at least an item column (品名, 商品名, Item …)
  and a quantity column (数量, Qty …), maybe unit, unit price, amount and No.; the
  rows below it, each word in the column whose header it sits under, until a line
  such as 合計 or 備考; a page without a header carries on with the last page's
  columns (a table running onto page 2);
- without any header, item lines: a line ending in a quantity with a unit
  (``キャベツ　　10玉``, ``トマト 3ケース``);
- the delivery date after its label (納品希望日, お届け日, Delivery date …), or a date on a
  line that says it is for delivery (``11/25(水)着でお願いします``), resolved against the
  day the fax arrived (``parsers.dates``);
- the buyer's name after 店名 / 会社名 / From …, the buyer's fax number (a FAX number
  not on the addressee's line), the addressee before 御中, and notes after 備考.

Every value is a ``Field``: the text as read, the normalized value, a confidence,
the page and the box it came from, and a reason when it is not sure. Confidence
starts from the words' (1.0 from a text layer, Tesseract's from OCR) and is lowered
by what does not fit: a quantity that does not parse, quantity × unit price ≠ amount,
a date before the fax arrived or a weekday that does not match its date; it is raised
when an independent check agrees (the amount, the weekday). Pure: it never raises.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

from parsers.dates import find_dates
from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.normalize import fold_compact, fold_for_match
from parsers.pagetext import HEADER_LINE_MM, PageText, Word
from parsers.units import NUMBER_PATTERN, Quantity, Unit, parse_number, read_quantity, unit_like, unit_of

__all__ = ["Field", "ItemLine", "FreeFormReading", "read_free_form", "Box", "MAX_QUANTITY", "LATEST_DAYS"]

Box = tuple[float, float, float, float]
Column = Literal["no", "item", "quantity", "unit", "price", "amount"]
_T = TypeVar("_T")

MAX_QUANTITY = Decimal(10_000)
LATEST_DAYS = 62  # a delivery date further off than this is more likely misread than meant
CHECKED = 0.97  # what an independent check that agrees makes a value worth
DOUBTFUL = 0.5  # what a value is worth when a check disagrees
UNLABELLED_DATE = 0.7  # a date nothing on the sheet says is the delivery date, however plainly read

_HEADER_LABELS: tuple[tuple[Column, re.Pattern[str]], ...] = (
    ("no", re.compile(r"^(?:no\.?|番号|#|№|項)$")),
    ("item", re.compile(r"^(?:品名|商品名|品目|品物|商品|品名・規格|品名/規格|商品名・規格|item|items|description|"
                        r"product|productname|name)")),
    # Gty: fax OCR often reads the Q of Qty as G
    ("quantity", re.compile(r"^(?:数量|数|個数|注文数|発注数|注文数量|発注数量|[qg]'?ty|quantity)")),
    ("unit", re.compile(r"^(?:単位|unit)$")),
    ("price", re.compile(r"^(?:単価|unitprice|price|価格|@)")),
    ("amount", re.compile(r"^(?:金額|amount|小計|subtotal|合計金額|計)$")),
)
_STOP = re.compile(r"^(?:合計|小計|総計|総合計|計|total|subtotal|備考|摘要|notes?|remarks|以上|通信欄|連絡事項)")
_DATE_LABEL = re.compile(r"(納品希望日|納品予定日|納品日|納入日|納入希望日|希望納期|納期|"
                         r"お届け希望日|お届け日|お届日|配達希望日|配達日|着日|着希望日|deliverydate|requesteddelivery|delivery|deliveron|requireddate|datedue)"
                         r"[:：]?")
# a sentence asking for a date and a time of day ("明日の午前中にお願いします") asks for a delivery
_DELIVERY_CUE = re.compile(r"着|納品|納入|お届け|届け|配達|午前|午後|までに|deliver", re.I)
_NOT_DELIVERY = re.compile(r"^日付|発行日|注文日|発注日|送信日|作成日|記入日|受信|orderdate|issued|sent", re.I)
_BUYER_LABEL = re.compile(r"(店名|店舗名|貴社名|御社名|会社名|社名|発注者|注文者|ご注文者|発注元|お名前|氏名|"
                          r"from|buyer|customer|company)[:：]?")
_NOTE_LABEL = re.compile(r"(備考|摘要|通信欄|連絡事項|notes?|remarks|comments?)[:：]?")
_ADDRESSEE = re.compile(r"(.+?)(?:御中|様|宛|殿)")
_TO_LABEL = re.compile(r"^(?:宛先|to|送付先)[:：]?")
_FAX_NUMBER = re.compile(r"fax(?:番号|no\.?)?[:：]?\s*((?:\+|0)[\d\-() ]{8,16}\d)", re.I)
_NOT_ITEM = re.compile(r"tel|fax|〒|年|月\d|日\(|御中|様|お願い|合計|小計|注文|発注|納品|着|いつも|下記|以上|"
                       r"no\.|ページ|page", re.I)
_TRAILING_QUANTITY = re.compile(rf"^(?P<item>.+?)\s*(?P<qty>{NUMBER_PATTERN})\s*(?P<unit>\S{{1,4}})$")
_YEN = re.compile(r"[¥￥\\円,，\s]|yen|jpy", re.I)


@dataclass(frozen=True)
class Field:
    text: str  # as read ("" when nothing was there)
    value: str | None  # normalized: "2.5", "2026-11-25", "+81355550101"; None when unreadable
    confidence: float  # 0..1
    page: int  # 1-based
    box: Box  # x0, top, x1, bottom in mm on that page
    reason: str | None = None
    alternatives: tuple[str, ...] = ()  # other readings OCR gave of the same ink (item names)

    def as_json(self) -> dict[str, Any]:
        out = {"text": self.text, "value": self.value, "confidence": round(self.confidence, 3), "page": self.page,
               "box": [round(v, 1) for v in self.box], "reason": self.reason}
        return {**out, "alternatives": list(self.alternatives)} if self.alternatives else out

    def doubted(self, reason: str, confidence: float = DOUBTFUL) -> Field:
        return replace(self, confidence=min(self.confidence, confidence),
                       reason="; ".join(r for r in (self.reason, reason) if r))

    def checked(self) -> Field:
        return replace(self, confidence=max(self.confidence, CHECKED))


@dataclass(frozen=True)
class ItemLine:
    item: Field
    quantity: Field
    unit: Field | None = None  # the written unit (value: the unit's label, e.g. "ケース")
    price: Field | None = None
    amount: Field | None = None


@dataclass(frozen=True)
class FreeFormReading:
    lines: tuple[ItemLine, ...]
    delivery_date: Field | None
    buyer_name: Field | None
    buyer_fax: Field | None
    supplier_name: Field | None
    note: Field | None
    layout: str  # "table" (a header was found) or "list"
    reasons: tuple[str, ...] = field(default=())


# --- lines of words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def folded(self) -> str:
        return fold_for_match(self.text)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)


def _lines(page: PageText) -> list[_Line]:
    by_line: dict[int, list[Word]] = {}
    for word in page.words:
        if word.text.strip():
            by_line.setdefault(word.line, []).append(word)
    lines = [_Line(page.number, tuple(sorted(words, key=lambda w: w.x0))) for _, words in sorted(by_line.items())]
    return sorted(lines, key=lambda line: line.top)


def _field(words: Sequence[Word], page: int, value: str | None, *, text: str | None = None,
           reason: str | None = None) -> Field:
    box = (min(w.x0 for w in words), min(w.top for w in words), max(w.x1 for w in words),
           max(w.bottom for w in words)) if words else (0.0, 0.0, 0.0, 0.0)
    confidence = min((w.conf for w in words), default=0.0) if value is not None else 0.0
    joined = text if text is not None else _join(words)
    return Field(joined, value, confidence, page, box, reason)


def _join(words: Iterable[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def _item_field(words: Sequence[Word], page: int, name: str) -> Field:
    """An item name's field, with the other names its words' other readings give (one word changed at a time)."""
    others = (_item_text(_join([*words[:i], replace(word, text=text), *words[i + 1:]]))
              for i, word in enumerate(words) for text in word.alternatives)
    return replace(_field(words, page, name), alternatives=tuple(dict.fromkeys(o for o in others if o and o != name)))


def _after(line: _Line, label: re.Pattern[str], *, whole_line: bool = False) -> tuple[list[Word], str] | None:
    """What follows the label on ``line``: the rest of the label's own word, else the next word (a cell to the
    right); with ``whole_line`` every word after the label. None without the label."""
    for i, word in enumerate(line.words):
        folded = fold_for_match(word.text)
        match = label.search(folded)
        if not match:
            continue
        end = _original_end(word.text, match.end())
        rest = word.text[end:].lstrip(" :：.・")
        start, rest = len(word.text) - len(rest), rest.rstrip(" :：")
        after = list(line.words[i + 1:]) if whole_line else list(line.words[i + 1:i + 2])
        if rest:
            # as sure as OCR was of the rest: a label read doubtfully ("Deliver on." 0.55) is no doubt on the date
            word = replace(word, conf=word.conf_of(start))
            return [word, *after] if whole_line else [word], " ".join([rest, *(w.text for w in after)]) \
                if whole_line else rest
        return after, " ".join(w.text for w in after)
    return None


def _original_end(text: str, folded_end: int) -> int:
    """The index in ``text`` where its folded form's first ``folded_end`` characters end."""
    for end in range(len(text) + 1):
        if len(fold_for_match(text[:end])) >= folded_end:
            return end
    return len(text)


# --- the item table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    spans: tuple[tuple[Column, float, float], ...]  # each header's kind and x extent, left to right

    def assign(self, words: Sequence[Word]) -> dict[Column, list[Word]]:
        """Each word of a row in its column: the item is what starts, and is mostly, left of the next column's
        header (パック written from its cell's left rule starts left of a centred 単位); the
        words after it go, in order, to the columns right of it that can hold them, nearest overall (a
        right-aligned 4 under a centred 数量 may sit nearer 単価, but then 2,980 and 11,920 would share 金額)."""
        kinds = [kind for kind, _, _ in self.spans]
        cells: dict[Column, list[Word]] = {}
        item_at = kinds.index("item")
        after_item = self.spans[item_at + 1][1] if item_at + 1 < len(self.spans) else math.inf
        rest: list[Word] = []
        for word in words:
            if item_at > 0 and not rest and "item" not in cells and self._before_item(word):
                cells.setdefault(self.spans[0][0], []).append(word)  # the No. column
            elif word.x0 < after_item - 1 and (word.x0 + word.x1) / 2 < after_item and not rest:
                cells.setdefault("item", []).append(word)
            else:
                rest.append(word)
        right = list(range(item_at + 1, len(kinds)))
        for word, index in zip(rest, self._placed(rest, right), strict=True):
            if index is None:  # fits no column: it stays where it sits, so an unreadable quantity is seen as one
                index = min(right, key=lambda i: self._distance(i, word))
            cells.setdefault(kinds[index], []).append(word)
        return cells

    def _before_item(self, word: Word) -> bool:
        """A row number, or a word inside the No. column's header: an item's name starts left of a centred
        品名 too, so being left of the item header is not enough."""
        item_x0 = next(x0 for kind, x0, _ in self.spans if kind == "item")
        if word.x0 >= item_x0 - 1:
            return False
        first_x1 = self.spans[0][2]
        return word.x1 <= first_x1 + 1 or bool(_ROW_NUMBER.fullmatch(fold_compact(word.text)))

    def _placed(self, words: Sequence[Word], columns: Sequence[int]) -> list[int | None]:
        """The cheapest left-to-right placing of ``words`` in ``columns`` (None: a stray mark, left out)."""
        inf = math.inf
        # best[j]: cost of the words so far with the last placed one in columns[j] (len(columns): none placed yet)
        best = [inf] * len(columns) + [0.0]
        choices: list[list[tuple[int, int | None]]] = []
        for word in words:
            # a column can hold the word if it can hold any of OCR's readings of it (300 g's g read 9, and again g)
            fits = [any(_fits(self.spans[column][0], text) for text in (word.text, *word.alternatives))
                    for column in columns]
            new = [inf] * (len(columns) + 1)
            back: list[tuple[int, int | None]] = [(len(columns), None)] * (len(columns) + 1)
            for last, cost in enumerate(best):
                if cost == inf:
                    continue
                if cost + _STRAY < new[last]:  # leave the word out
                    new[last], back[last] = cost + _STRAY, (last, None)
                start = 0 if last == len(columns) else last
                for j in range(start, len(columns)):
                    if not fits[j]:
                        continue
                    step = cost + self._distance(columns[j], word) + (_STACKED if j == last else 0.0)
                    if step < new[j]:
                        new[j], back[j] = step, (last, columns[j])
            best = new
            choices.append(back)
        placed: list[int | None] = []
        state = min(range(len(best)), key=best.__getitem__)
        for back in reversed(choices):
            previous, column = back[state]
            placed.append(column)
            state = previous
        return placed[::-1]

    def _distance(self, index: int, word: Word) -> float:
        _, x0, x1 = self.spans[index]
        return max(x0 - word.x1, word.x0 - x1, 0.0)


_ROW_NUMBER = re.compile(r"[\dIil|]{1,3}[.)]?|[①-⑳]")
_STRAY = 40.0  # mm: what leaving a word out of every column costs
_STACKED = 12.0  # mm: what a second word in one column costs (cells hold one value)


def _fits(kind: Column, text: str) -> bool:
    folded = fold_compact(text)
    if kind == "quantity":
        return read_quantity(text) is not None
    if kind == "unit":
        return unit_of(folded) is not None or (bool(folded) and len(folded) <= 4 and not re.search(r"\d", folded))
    if kind in ("price", "amount"):
        return parse_number(re.sub(r"[.](?=\d{3}(?!\d))", "", _YEN.sub("", folded))) is not None
    return True


# A header word OCR got half right ("疲名" for 品名, "単個" for 単価, "交額" for 金額): one character is enough
# once the line has a quantity column and another label for sure.
_HEADER_HINTS: tuple[tuple[Column, str], ...] = (("item", "品名商"), ("price", "価"), ("amount", "金額"),
                                                 ("unit", "位"), ("price", "単"))


def _header(line: _Line) -> _Columns | None:
    found: dict[Column, tuple[float, float]] = {}
    unknown: list[Word] = []
    for word in line.words:
        folded = fold_for_match(word.text).strip("|[]()")
        for kind, pattern in _HEADER_LABELS:
            if kind not in found and pattern.search(folded):
                found[kind] = (word.x0, word.x1)
                break
        else:
            unknown.append(word)
    if "quantity" not in found or len(found) < 2 or len(line.words) > 10:
        return None
    for word in unknown:
        folded = fold_for_match(word.text)
        if not 1 < len(folded) <= 4:
            continue
        for kind, hints in _HEADER_HINTS:
            if kind not in found and any(ch in folded for ch in hints):
                found[kind] = (word.x0, word.x1)
                break
    if "item" not in found and len(found) >= 3:
        # 品名 half read on a gray header cell: the first word left of 数量 that no other label claims
        first = [word for word in unknown if word.x1 <= found["quantity"][0]
                 and ("no" not in found or word.x0 >= found["no"][1])]
        if first:
            found["item"] = (first[0].x0, first[0].x1)
    if "item" not in found:
        return None
    return _Columns(tuple(sorted(((kind, x0, x1) for kind, (x0, x1) in found.items()), key=lambda t: t[1])))


def _number_field(words: Sequence[Word], page: int, *, money: bool) -> Field | None:
    if not words:
        return None
    text = _join(words)
    raw = _YEN.sub("", fold_compact(text))
    if money:
        # Fax OCR reads thousands commas as periods: yen amounts have no decimals.
        raw = re.sub(r"[.](?=\d{3}(?!\d))", "", raw)
    number = parse_number(raw)
    if number is None:
        return _field(words, page, None, reason=f"not a number: {text!r}")
    return _field(words, page, str(number))


# Fax OCR's readings of a lone digit in a quantity cell: 7 as 了, 1 as ] or l, 0 as O.
_DIGIT_LOOKALIKES = str.maketrans({"了": "7", "]": "1", "】": "1", "|": "1", "l": "1", "I": "1", "O": "0", "o": "0",
                                   "〇": "0", "Z": "2", "z": "2"})


# a handwritten decimal point, a word of its own between the digits' words, read as a dot of another kind: 1 ● 5
_DECIMAL_DOT = re.compile(r"(?<=\d)\s*[●•・·.]\s*(?=\d)")


# Fax OCR's readings of a unit alone in its cell: L as し (the Japanese model's nearest shape), pcs as pes.
_UNIT_LOOKALIKES = {"し": "L", "レ": "L", "pes": "pcs", "pe": "pc", "pos": "pcs"}


def _unit_guess(words: Sequence[Word]) -> Unit | None:
    """The one unit that OCR's readings of a unit cell come near (ﾊﾟｯｸ read のラク, and again ーック), or None."""
    readings = [_join(words), *(words[0].alternatives if len(words) == 1 else ())]
    near = {unit for text in readings
            if (unit := unit_of(_UNIT_LOOKALIKES.get(fold_compact(text), text)) or unit_like(text)) is not None}
    return near.pop() if len(near) == 1 else None


def _quantity_fields(words: Sequence[Word], unit_words: Sequence[Word], page: int) -> tuple[Field, Field | None]:
    text = _join(words)
    read = _read_quantity(text) if words else None
    quantity, unit_guessed = read if read is not None else (None, False)
    repaired = None
    if quantity is None and words:
        # only the first word: "5 l" is five litres, and a unit may look like a digit; a dash at its end
        # ("2.5-") is a rule's remains
        first, _, rest = _DECIMAL_DOT.sub(".", text).partition(" ")
        repaired = " ".join(part for part in (first.translate(_DIGIT_LOOKALIKES).strip("-ーｰ_~"), rest) if part)
        quantity = read_quantity(repaired) if repaired != text else None
        if quantity is None and len(words) == 1 and (other := _another_reading(words[0], read_quantity)):
            repaired, quantity = other  # a handwritten 9 read し4, and again 9
    unit_field: Field | None = None
    if unit_words:
        unit_text = _join(unit_words)
        unit = unit_of(fold_compact(unit_text))
        unit_field = _field(unit_words, page, unit.label if unit else None,
                            reason=None if unit else f"unknown unit {unit_text!r}")
        if unit is None and (guess := _unit_guess(unit_words)) is not None:
            unit_field = _field(unit_words, page, guess.label).doubted(
                f"unit read as {unit_text!r}, taken as {guess.label!r}")
    if quantity is None:
        return _field(words, page, None, reason=f"quantity unreadable: {text!r}" if words else "no quantity"), \
            unit_field
    if quantity.unit is not None and unit_field is None:
        unit_field = _field(words, page, quantity.unit.label, text=text)
        if unit_guessed:
            unit_field = unit_field.doubted(f"unit read in {text!r} taken as {quantity.unit.label!r}")
    amount = quantity.amount
    value_field = _field(words, page, str(amount))
    if (number := re.match(rf"\s*(?:{NUMBER_PATTERN})", words[0].text)) is not None:
        # as sure as OCR was of the number: the unit beside it ("1 バ" "ック") is a field of its own
        value_field = replace(value_field, confidence=words[0].conf_of(0, number.end()))
    if repaired is not None:
        value_field = value_field.doubted(f"quantity read as {text!r}, taken as {repaired!r}")
    if amount <= 0 or amount > MAX_QUANTITY:
        value_field = value_field.doubted(f"quantity {amount} out of range", 0.0)
    return value_field, unit_field


def _table_row(line: _Line, columns: _Columns) -> ItemLine | None:
    """The row's item line; None for a blank row. A row with a name but no quantity, or a quantity but no
    name OCR could read, is still a line (its field unreadable): dropping it would shorten the order."""
    cells = columns.assign(line.words)
    item_words = cells.get("item", [])
    quantity_words = cells.get("quantity", [])
    unit_words = cells.get("unit", [])
    item_text = _item_text(_join(item_words))
    if not quantity_words and item_words:
        # An item name running into the quantity column ("トマト 3ケース" in one cell).
        split = _split_trailing_quantity(item_words)
        if split is not None:
            item_words, quantity_words, split_unit = split
            unit_words = split_unit or unit_words
            item_text = _item_text(_join(item_words))
        elif unit_words and read_quantity(_join(unit_words)) is None:
            quantity_words, unit_words = unit_words, []  # "十数" under 単位: a quantity nobody can read
    if not _is_name(item_text) and (not quantity_words or read_quantity(_join(quantity_words)) is None):
        return None  # a blank row, or the remains of its rules
    quantity, unit = _quantity_fields(quantity_words, unit_words, line.page)
    price = _number_field(cells.get("price", []), line.page, money=True)
    amount = _number_field(cells.get("amount", []), line.page, money=True)
    quantity = _cross_check(quantity, price, amount)
    if sum(parse_number(fold_compact(word.text)) is not None for word in quantity_words) > 1:
        # "1. 5" spaced out with its point lost to the fax: 1 and 5, or 15, or 1.5
        quantity = quantity.doubted(f"more than one number in the quantity cell: {_join(quantity_words)!r}", 0.0)
    for name, cell in (("unit price", price), ("amount", amount)):
        if cell is not None and cell.value is None and quantity.value is not None:
            quantity = quantity.doubted(f"{name} unreadable ({cell.text!r}): the quantity is unchecked")
    item = _item_field(item_words, line.page, item_text) if _is_name(item_text) else \
        _field(item_words or list(line.words), line.page, None, text=item_text, reason="item name unreadable")
    return ItemLine(item, quantity, unit, price, amount)


_DASHES = frozenset("ーｰ一-‐―—…")


def _is_name(text: str) -> bool:
    """Whether ``text`` has two letters or kana, or a kanji (苺), and no more dashes: a name, not a rule's
    remains (ーー, |, ., and a dotted rule read as ーーーーデニーーーー)."""
    letters = [ch for ch in text if ch.isalpha() and ch not in _DASHES]
    return (len(letters) >= 2 or any(unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in letters)) \
        and len(letters) >= sum(ch in _DASHES for ch in text)


def _cross_check(quantity: Field, price: Field | None, amount: Field | None) -> Field:
    """Quantity × unit price = amount, when the sheet has both: the check that catches a misread digit."""
    if quantity.value is None or price is None or amount is None or price.value is None or amount.value is None:
        return quantity
    if Decimal(quantity.value) * Decimal(price.value) == Decimal(amount.value):
        if min(price.confidence, amount.confidence) >= DOUBTFUL:
            return quantity.checked()
        return quantity
    return quantity.doubted(f"{quantity.value} × {price.value} ≠ {amount.value}")


def _item_text(text: str) -> str:
    """The item's name without a leading row number ("1", "1.", "①")."""
    return re.sub(r"^\s*(?:\d{1,3}(?:[.)．](?!\d)\s*|\s+)|[①-⑳]\s*)", "", text).strip()


def _split_trailing_quantity(words: Sequence[Word]) -> tuple[list[Word], list[Word], list[Word]] | None:
    """A name's words, then its quantity's and unit's: "3ケース" in one word, or a number then a unit in
    two or three (ﾊﾟｯｸ cut by OCR into "1 バ" and "ック"); the unit may be one kana off."""
    for n in (1, 2, 3):
        if len(words) > n and _read_quantity(_join(words[-n:])) is not None:
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


def _table(lines: Sequence[_Line]) -> tuple[list[ItemLine], set[int]] | None:
    """The rows under the item table's header (on every page); None when no page has a header."""
    rows: list[ItemLine] = []
    used: set[int] = set()
    columns: _Columns | None = None
    in_table = False
    page = 0
    running_on = False  # on a page after the table's: its rows start at the first with a quantity
    for index, line in enumerate(lines):
        if line.page != page:
            page, in_table = line.page, columns is not None  # a table runs on onto the next page
            running_on = in_table
        header = _header(line)
        if header is not None:
            columns, in_table, running_on = header, True, False
            used.add(index)
            continue
        if not in_table or columns is None:
            continue
        if _STOP.search(line.folded):
            in_table = False
            continue
        row = _table_row(line, columns)
        if row is not None and running_on:
            if row.quantity.value is None:
                continue  # the fax header line, the title, a header half read, above the rows
            running_on = False
        if row is not None:
            rows.append(row)
            used.add(index)
    return (rows, used) if columns is not None else None


def _list_line(line: _Line) -> ItemLine | None:
    """A name, then a quantity with its unit, as separate words or run together in one; else, when OCR read the
    last word again (40コ read 40, and again 40 コ), the one line that another reading of it makes, doubted."""
    found = _list_line_as_read(line)
    if found is not None:
        return found
    last = line.words[-1]
    other = _another_reading(
        last, lambda text: _list_line_as_read(replace(line, words=(*line.words[:-1], replace(last, text=text)))),
        key=lambda row: (row.item.value, row.quantity.value, row.unit and row.unit.value))
    if other is None:
        return None
    text, row = other
    return replace(row, quantity=row.quantity.doubted(f"quantity read as {last.text!r}, and again as {text!r}"))


def _another_reading(word: Word, read: Callable[[str], _T | None],
                     key: Callable[[_T], Hashable] = lambda value: value) -> tuple[str, _T] | None:
    """The one value (by ``key``) that OCR's other readings of ``word`` give, and the first of them to give it;
    None when they give none, or more than one (a digit read 9, and again 4: neither is the quantity)."""
    found: dict[Hashable, tuple[str, _T]] = {}
    for text in word.alternatives:
        if (value := read(text)) is not None:
            found.setdefault(key(value), (text, value))
    return next(iter(found.values())) if len(found) == 1 else None


def _list_line_as_read(line: _Line) -> ItemLine | None:
    words = list(line.words)
    split = _split_trailing_quantity(words)
    if split is not None:
        item_words, quantity_words, unit_words = split
        quantity, unit = _quantity_fields(quantity_words, unit_words, line.page)
        if unit is None:
            return None  # a bare number at the end of a line is not a quantity without its unit
        item = _item_text(_join(item_words))
        item_field = _item_field(item_words, line.page, item)
    else:
        match = _TRAILING_QUANTITY.match(fold_compact(line.text))
        written = match.group("unit") if match else ""
        known = unit_of(written)
        written_unit = known or unit_like(written)
        if match is None or written_unit is None or len(words) != 1:
            return None
        item = _item_text(match.group("item"))
        item_field = _field(words, line.page, item, text=item)
        quantity = _field(words, line.page, str(parse_number(match.group("qty"))), text=match.group("qty"))
        unit = _field(words, line.page, written_unit.label, text=written)
        if known is None:
            unit = unit.doubted(f"unit read as {written!r}, taken as {written_unit.label!r}")
    if not item or len(item) > 40 or _NOT_ITEM.search(fold_compact(item)):
        return None
    return ItemLine(item_field, quantity, unit)


def _list_lines(lines: Sequence[_Line]) -> tuple[list[ItemLine], set[int]]:
    """Every item line; a line among them that is none (``キャベツ ト Tt``: its quantity misread) is a line
    with its quantity unreadable, so that the order is not taken without it."""
    found = {index: row for index, line in enumerate(lines) if (row := _list_line(line)) is not None}
    if not found:
        return [], set()
    first, last = min(found), max(found)
    # The block reaches out over lines like an item's but unread: a name and a number (2 レタス 24 い).
    while first > 0 and _like_item_line(lines[first - 1], lines[first]):
        first -= 1
    while last + 1 < len(lines) and _like_item_line(lines[last + 1], lines[last]):
        last += 1
    rows: list[ItemLine] = []
    for index in range(first, last + 1):
        line = lines[index]
        if index in found:
            rows.append(found[index])
        elif _is_name(line.text) and line.page == lines[first].page:
            words = list(line.words)
            rows.append(ItemLine(_field(words, line.page, _item_text(line.text)),
                                 _field(words, line.page, None, reason=f"no quantity and unit read in {line.text!r}")))
    return rows, set(range(first, last + 1))


_LIST_HEAD = "記"  # centred above the list of a business letter (its 記書き), as 以上 closes it: never an item


def _like_item_line(line: _Line, neighbour: _Line) -> bool:
    return line.page == neighbour.page and _is_name(line.text) and bool(re.search(r"\d", line.text)) \
        and not _NOT_ITEM.search(line.folded) and not _STOP.search(line.folded) and line.words[0].text != _LIST_HEAD


# --- the other fields --------------------------------------------------------------------------


def _delivery_date(lines: Sequence[_Line], received_on: date, skip: set[int]) -> Field | None:
    """The date after a delivery label, else after a word that looks like one half read (納唱希望日: a
    label on a gray cell comes out of a fax as dither), else on a line that says it is for delivery,
    else the one date on the sheet after the day the fax came (doubted: nothing says what it is for)."""
    kept = [line for i, line in enumerate(lines) if i not in skip]
    labelled = [(line, found) for line in kept if (found := _after(line, _DATE_LABEL)) is not None]
    for line, (words, text) in labelled:
        result = _date_field(words or list(line.words), line.page, text, received_on)
        if result is not None:
            return result
    for line in kept:
        for i, word in enumerate(line.words[:-1]):
            if _date_label_shaped(word.text):
                result = _date_field(line.words[i + 1:i + 2], line.page, line.words[i + 1].text, received_on)
                # a label with none of 納届希望 left (お届け日 read お入け日) is one only before a later date:
                # the sheet's other dated labels (注文日, 発行日) give the day it was sent
                if result is not None and (_DATE_LABEL_PARTS & set(word.text) or
                                           result.value is not None and result.value > received_on.isoformat()):
                    return result
    if labelled:
        line, (words, text) = labelled[0]
        unread = _field(words or list(line.words), line.page, None, text=text,
                        reason=f"delivery date unreadable: {text!r}")
        # OCR's other readings of the date's word (明日 read 遇日, and again 明日): one date among them, doubted
        other = _another_reading(words[0], lambda reading: _date_field(words, line.page, reading, received_on),
                                 key=lambda dated: dated.value) if len(words) == 1 and words[0].text == text else None
        if other is not None:
            reading, date_field = other
            return replace(date_field, text=text).doubted(f"delivery date read as {text!r}, and again as {reading!r}")
        return unread
    for line in kept:
        if not _DELIVERY_CUE.search(line.folded) or _NOT_DELIVERY.search(line.folded):
            continue
        result = _date_field(list(line.words), line.page, line.text, received_on)
        if result is not None:
            return result
    # not in the sending machine's header line, whose page count (1/1) reads as a date
    later = [dated for line in kept if line.top > HEADER_LINE_MM for word in line.words
             if (dated := _date_field([word], line.page, word.text, received_on)) is not None
             and dated.value is not None and dated.value > received_on.isoformat()]
    if len({dated.value for dated in later}) == 1:
        return later[0].doubted("a date with no delivery label: the only one after the day the fax came",
                                UNLABELLED_DATE)
    return None


_DATE_LABEL_PARTS = frozenset("納届希望")


def _date_label_shaped(text: str) -> bool:
    """A short word ending in 日 or 期 (or what fax OCR makes of 日) that is no other date's label."""
    folded = fold_compact(text).strip("|[]:：")
    return 2 <= len(folded) <= 7 and folded[-1] in "日期" + _DAY_LOOKALIKES and not _NOT_DELIVERY.search(folded)


# What fax OCR makes of the characters of a date: z for 2, i or l for 1, 昌 for 日, 信和 for 令和.
_DAY_LOOKALIKES = "昌旦目曰"
_DATE_REPAIRS = ((re.compile(r"(?<=[\d/])[zZ]|[zZ](?=[\d/])"), "2"),
                 (re.compile(r"(?<=[\d/])[iIl|]|[iIl|](?=[\d/iIl|])"), "1"),
                 (re.compile(r"(?<=\d)[oO]|[oO](?=\d)"), "0"),
                 (re.compile(rf"(?<=\d)\s*[{_DAY_LOOKALIKES}]"), "日"),
                 (re.compile(r"[信合今]和(?=\s*\d)"), "令和"),
                 # a slash read as 7 (11727(金)): only before a weekday, which then checks the date
                 (re.compile(r"(?<![\d/])(1[0-2]|0?[1-9])7([0-2]?\d|3[01])(?=\s*[(（]\s*[月火水木金土日])"), r"\1/\2"))


def _repaired_date_text(text: str) -> str:
    for pattern, replacement in _DATE_REPAIRS:
        text = pattern.sub(replacement, text)
    return text


def _date_field(words: Sequence[Word], page: int, text: str, received_on: date) -> Field | None:
    text = text.lstrip(".,・:：")  # dust or a colon between label and date ("Delivery date:.2026/11/27")
    found = find_dates(text, received_on)
    repaired = not found
    if repaired:
        found = find_dates(_repaired_date_text(text), received_on)
        if not found:
            return None
    first = found[0]
    result = _field(words, page, first.value.isoformat(), text=first.text)
    if first.note:
        return result.doubted(first.note)
    if first.value < received_on:
        return result.doubted(f"delivery date {first.value} is before the fax arrived ({received_on})", 0.3)
    if first.value > received_on + timedelta(days=LATEST_DAYS):
        return result.doubted(f"delivery date {first.value} is more than {LATEST_DAYS} days away")
    if re.search(r"[(（]\s*[月火水木金土日]", first.text):
        return result.checked()  # the weekday written agrees with the date read
    if repaired:
        return result.doubted(f"delivery date read as {first.value} from {text!r}")
    return result


def _labelled_text(lines: Sequence[_Line], label: re.Pattern[str], skip: set[int], *,
                   whole_line: bool = False) -> Field | None:
    for i, line in enumerate(lines):
        if i in skip:
            continue
        found = _after(line, label, whole_line=whole_line)
        if found is None:
            continue
        words, text = found
        text = text.strip(" :：")
        if text:
            return _field(words, line.page, text, text=text)
    return None


def _addressee(lines: Sequence[_Line]) -> Field | None:
    for line in lines:
        match = _ADDRESSEE.search(line.text)
        if match and ("御中" in line.text or _TO_LABEL.search(line.folded)):
            name = _TO_LABEL.sub("", match.group(1).strip()).strip(" :：")
            if name:
                return _field(list(line.words), line.page, name, text=name)
    return None


def _buyer_fax(lines: Sequence[_Line]) -> Field | None:
    for line in lines:
        if "御中" in line.text or "宛" in line.text or _TO_LABEL.search(line.folded):
            continue  # the addressee's number, or "send to" on a supplier's form
        for i, word in enumerate(line.words):
            if "fax" not in fold_compact(word.text):
                continue
            # "FAX 03-5555-0101" in one word, or "FAX:" and the number in the next.
            for words in ([word], line.words[i:i + 2]):
                match = _FAX_NUMBER.search(fold_compact(_join(words)).replace(" ", ""))
                if match is None:
                    continue
                try:
                    number = normalize_fax_number(match.group(1))
                except BadFaxNumber:
                    continue
                return _field(list(words), line.page, number, text=match.group(1))
    return None


def read_free_form(pages: Sequence[PageText], received_on: date) -> FreeFormReading:
    """What a buyer's own order sheet says; relative and year-less dates count from ``received_on``."""
    lines = [line for page in pages for line in _lines(page)]
    table = _table(lines)
    if table is not None:
        rows, used = table
        layout = "table"
    else:
        rows, used = _list_lines(lines)
        layout = "list"
    reasons = [] if rows else ["no item table or item lines found"]
    return FreeFormReading(
        lines=tuple(rows),
        delivery_date=_delivery_date(lines, received_on, used),
        buyer_name=_labelled_text(lines, _BUYER_LABEL, used),
        buyer_fax=_buyer_fax(lines),
        supplier_name=_addressee(lines),
        note=_labelled_text(lines, _NOTE_LABEL, used, whole_line=True),
        layout=layout,
        reasons=tuple(reasons),
    )
