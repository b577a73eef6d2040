"""Item lines, on a sheet without an item table's header: a name, then a quantity with its unit.

``キャベツ　　10玉``, ``トマト 3ケース``: a bare number at the end of a line is not a
quantity without its unit. The lines between and around the ones read (a name and a
number OCR garbled) are kept as lines with their quantity unreadable, so that an
order is never taken shorter than it was written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from parsers.faxorder.cells import is_name, item_field, item_text, quantity_fields, split_trailing_quantity
from parsers.faxorder.lines import Line, another_reading, field_of, join
from parsers.faxorder.readings import ItemLine
from parsers.faxorder.table import STOP
from parsers.normalize import fold_compact
from parsers.units import NUMBER_PATTERN, parse_number, unit_like, unit_of

_NOT_ITEM = re.compile(r"tel|fax|〒|年|月\d|日\(|御中|様|お願い|合計|小計|注文|発注|納品|着|いつも|下記|以上|"
                       r"no\.|ページ|page", re.I)
_TRAILING_QUANTITY = re.compile(rf"^(?P<item>.+?)\s*(?P<qty>{NUMBER_PATTERN})\s*(?P<unit>\S{{1,4}})$")
_LIST_HEAD = "記"  # centred above the list of a business letter (its 記書き), as 以上 closes it: never an item


def read_list_lines(lines: Sequence[Line]) -> tuple[list[ItemLine], set[int]]:
    """Every item line, and the indexes of the lines the block of them takes; a line among them that is none
    (``キャベツ ト Tt``: its quantity misread) is a line with its quantity unreadable, so that the order is not
    taken without it."""
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
        elif is_name(line.text) and line.page == lines[first].page:
            words = list(line.words)
            unread = field_of(words, line.page, None, reason=f"no quantity and unit read in {line.text!r}")
            rows.append(ItemLine(field_of(words, line.page, item_text(line.text)), unread))
    return rows, set(range(first, last + 1))


def _list_line(line: Line) -> ItemLine | None:
    """A name, then a quantity with its unit, as separate words or run together in one; else, when OCR read the
    last word again (40コ read 40, and again 40 コ), the one line that another reading of it makes, doubted."""
    found = _list_line_as_read(line)
    if found is not None:
        return found
    last = line.words[-1]
    other = another_reading(
        last, lambda text: _list_line_as_read(replace(line, words=(*line.words[:-1], replace(last, text=text)))),
        key=lambda row: (row.item.value, row.quantity.value, row.unit and row.unit.value))
    if other is None:
        return None
    text, row = other
    return replace(row, quantity=row.quantity.doubted(f"quantity read as {last.text!r}, and again as {text!r}"))


def _list_line_as_read(line: Line) -> ItemLine | None:
    words = list(line.words)
    split = split_trailing_quantity(words)
    if split is not None:
        item_words, quantity_words, unit_words = split
        quantity, unit = quantity_fields(quantity_words, unit_words, line.page)
        if unit is None:
            return None  # a bare number at the end of a line is not a quantity without its unit
        item = item_text(join(item_words))
        name_field = item_field(item_words, line.page, item)
    else:
        match = _TRAILING_QUANTITY.match(fold_compact(line.text))
        written = match.group("unit") if match else ""
        known = unit_of(written)
        written_unit = known or unit_like(written)
        if match is None or written_unit is None or len(words) != 1:
            return None
        item = item_text(match.group("item"))
        name_field = field_of(words, line.page, item, text=item)
        quantity = field_of(words, line.page, str(parse_number(match.group("qty"))), text=match.group("qty"))
        unit = field_of(words, line.page, written_unit.label, text=written)
        if known is None:
            unit = unit.doubted(f"unit read as {written!r}, taken as {written_unit.label!r}")
    if not item or len(item) > 40 or _NOT_ITEM.search(fold_compact(item)):
        return None
    return ItemLine(name_field, quantity, unit)


def _like_item_line(line: Line, neighbour: Line) -> bool:
    return line.page == neighbour.page and is_name(line.text) and bool(re.search(r"\d", line.text)) \
        and not _NOT_ITEM.search(line.folded) and not STOP.search(line.folded) and line.words[0].text != _LIST_HEAD
