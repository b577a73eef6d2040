"""The item table: its header line, its columns, and the rows under it, across pages.

A header line names at least an item column (品名, 商品名, Item …) and a quantity
column (数量, Qty …), maybe unit, unit price, amount and No. Each word of a row below
it goes to the column whose header it sits under, until a line such as 合計 or 備考
(``STOP``); a page without a header carries on with the last page's columns (a table
running onto page 2). Where a row has both, quantity × unit price = amount checks
the quantity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from parsers.faxorder.cells import (
    is_name,
    item_field,
    item_text,
    money_digits,
    money_field,
    quantity_fields,
    split_trailing_quantity,
)
from parsers.faxorder.lines import Line, field_of, join
from parsers.faxorder.readings import DOUBTFUL, Field, ItemLine
from parsers.normalize import fold_compact, fold_for_match
from parsers.pagetext.page import Word
from parsers.units import parse_number, read_quantity, unit_of

Column = Literal["no", "item", "quantity", "unit", "price", "amount"]

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
# what ends the table (or a list of item lines): its total, or the notes under it
STOP = re.compile(r"^(?:合計|小計|総計|総合計|計|total|subtotal|備考|摘要|notes?|remarks|以上|通信欄|連絡事項)")

# A header word OCR got half right ("疲名" for 品名, "単個" for 単価, "交額" for 金額): one character is enough
# once the line has a quantity column and another label for sure.
_HEADER_HINTS: tuple[tuple[Column, str], ...] = (("item", "品名商"), ("price", "価"), ("amount", "金額"),
                                                 ("unit", "位"), ("price", "単"))

_ROW_NUMBER = re.compile(r"[\dIil|]{1,3}[.)]?|[①-⑳]")
_STRAY = 40.0  # mm: what leaving a word out of every column costs
_STACKED = 12.0  # mm: what a second word in one column costs (cells hold one value)


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


def _fits(kind: Column, text: str) -> bool:
    folded = fold_compact(text)
    if kind == "quantity":
        return read_quantity(text) is not None
    if kind == "unit":
        return unit_of(folded) is not None or (bool(folded) and len(folded) <= 4 and not re.search(r"\d", folded))
    if kind in ("price", "amount"):
        return parse_number(money_digits(text)) is not None
    return True


def _header(line: Line) -> _Columns | None:
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


def _table_row(line: Line, columns: _Columns) -> ItemLine | None:
    """The row's item line; None for a blank row. A row with a name but no quantity, or a quantity but no
    name OCR could read, is still a line (its field unreadable): dropping it would shorten the order."""
    cells = columns.assign(line.words)
    item_words = cells.get("item", [])
    quantity_words = cells.get("quantity", [])
    unit_words = cells.get("unit", [])
    name = item_text(join(item_words))
    if not quantity_words and item_words:
        # An item name running into the quantity column ("トマト 3ケース" in one cell).
        split = split_trailing_quantity(item_words)
        if split is not None:
            item_words, quantity_words, split_unit = split
            unit_words = split_unit or unit_words
            name = item_text(join(item_words))
        elif unit_words and read_quantity(join(unit_words)) is None:
            quantity_words, unit_words = unit_words, []  # "十数" under 単位: a quantity nobody can read
    if not is_name(name) and (not quantity_words or read_quantity(join(quantity_words)) is None):
        return None  # a blank row, or the remains of its rules
    quantity, unit = quantity_fields(quantity_words, unit_words, line.page)
    price = money_field(cells.get("price", []), line.page)
    amount = money_field(cells.get("amount", []), line.page)
    quantity = _cross_check(quantity, price, amount)
    if sum(parse_number(fold_compact(word.text)) is not None for word in quantity_words) > 1:
        # "1. 5" spaced out with its point lost to the fax: 1 and 5, or 15, or 1.5
        quantity = quantity.doubted(f"more than one number in the quantity cell: {join(quantity_words)!r}", 0.0)
    for label, cell in (("unit price", price), ("amount", amount)):
        if cell is not None and cell.value is None and quantity.value is not None:
            quantity = quantity.doubted(f"{label} unreadable ({cell.text!r}): the quantity is unchecked")
    item = item_field(item_words, line.page, name) if is_name(name) else \
        field_of(item_words or list(line.words), line.page, None, text=name, reason="item name unreadable")
    return ItemLine(item, quantity, unit, price, amount)


def _cross_check(quantity: Field, price: Field | None, amount: Field | None) -> Field:
    """Quantity × unit price = amount, when the sheet has both: the check that catches a misread digit."""
    if quantity.value is None or price is None or amount is None or price.value is None or amount.value is None:
        return quantity
    if Decimal(quantity.value) * Decimal(price.value) == Decimal(amount.value):
        if min(price.confidence, amount.confidence) >= DOUBTFUL:
            return quantity.checked()
        return quantity
    return quantity.doubted(f"{quantity.value} × {price.value} ≠ {amount.value}")


def read_table(lines: Sequence[Line]) -> tuple[list[ItemLine], set[int]] | None:
    """The rows under the item table's header (on every page), and the indexes of the lines they and the
    header take; None when no page has a header."""
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
        if STOP.search(line.folded):
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
