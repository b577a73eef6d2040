"""Who the sheet is from and to, and its note: each found by its label, outside the item table.

The buyer's name after 店名 / 会社名 / From …, the buyer's fax number (a FAX number
not on the addressee's line), the addressee (our supplier) before 御中, and the
notes after 備考.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.faxorder.lines import Line, after, field_of, join
from parsers.faxorder.readings import Field
from parsers.normalize import fold_compact

_BUYER_LABEL = re.compile(r"(店名|店舗名|貴社名|御社名|会社名|社名|発注者|注文者|ご注文者|発注元|お名前|氏名|"
                          r"from|buyer|customer|company)[:：]?")
_NOTE_LABEL = re.compile(r"(備考|摘要|通信欄|連絡事項|notes?|remarks|comments?)[:：]?")
_ADDRESSEE = re.compile(r"(.+?)(?:御中|様|宛|殿)")
_TO_LABEL = re.compile(r"^(?:宛先|to|送付先)[:：]?")
_FAX_NUMBER = re.compile(r"fax(?:番号|no\.?)?[:：]?\s*((?:\+|0)[\d\-() ]{8,16}\d)", re.I)


def buyer_name(lines: Sequence[Line], skip: set[int]) -> Field | None:
    """The word after the buyer's label, on a line not in ``skip`` (the item table's)."""
    return _labelled_text(lines, _BUYER_LABEL, skip)


def note(lines: Sequence[Line], skip: set[int]) -> Field | None:
    """Everything after the note's label on its line, on a line not in ``skip``."""
    return _labelled_text(lines, _NOTE_LABEL, skip, whole_line=True)


def _labelled_text(lines: Sequence[Line], label: re.Pattern[str], skip: set[int], *,
                   whole_line: bool = False) -> Field | None:
    for i, line in enumerate(lines):
        if i in skip:
            continue
        found = after(line, label, whole_line=whole_line)
        if found is None:
            continue
        words, text = found
        text = text.strip(" :：")
        if text:
            return field_of(words, line.page, text, text=text)
    return None


def addressee(lines: Sequence[Line]) -> Field | None:
    for line in lines:
        match = _ADDRESSEE.search(line.text)
        if match and ("御中" in line.text or _TO_LABEL.search(line.folded)):
            name = _TO_LABEL.sub("", match.group(1).strip()).strip(" :：")
            if name:
                return field_of(list(line.words), line.page, name, text=name)
    return None


def buyer_fax(lines: Sequence[Line]) -> Field | None:
    for line in lines:
        if "御中" in line.text or "宛" in line.text or _TO_LABEL.search(line.folded):
            continue  # the addressee's number, or "send to" on a supplier's form
        for i, word in enumerate(line.words):
            if "fax" not in fold_compact(word.text):
                continue
            # "FAX 03-5555-0101" in one word, or "FAX:" and the number in the next.
            for words in ([word], line.words[i:i + 2]):
                match = _FAX_NUMBER.search(fold_compact(join(words)).replace(" ", ""))
                if match is None:
                    continue
                try:
                    number = normalize_fax_number(match.group(1))
                except BadFaxNumber:
                    continue
                return field_of(list(words), line.page, number, text=match.group(1))
    return None
