"""The delivery date: after its label, or on a line that says it is for delivery; checked against the fax's day.

Resolved against the day the fax arrived (``parsers.dates``): a date before it, or
more than ``LATEST_DAYS`` after it, is doubted; a weekday written that agrees with
the date checks it. A date fax OCR garbled (z for 2, 昌 for 日) is put right and doubted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from parsers.dates import find_dates
from parsers.faxorder.lines import Line, after, another_reading, field_of
from parsers.faxorder.readings import Field
from parsers.normalize import fold_compact
from parsers.pagetext.page import HEADER_LINE_MM, Word

LATEST_DAYS = 62  # a delivery date further off than this is more likely misread than meant
UNLABELLED_DATE = 0.7  # a date nothing on the sheet says is the delivery date, however plainly read

_DATE_LABEL = re.compile(r"(納品希望日|納品予定日|納品日|納入日|納入希望日|希望納期|納期|"
                         r"お届け希望日|お届け日|お届日|配達希望日|配達日|着日|着希望日|deliverydate|requesteddelivery|delivery|deliveron|requireddate|datedue)"
                         r"[:：]?")
# a sentence asking for a date and a time of day ("明日の午前中にお願いします") asks for a delivery
_DELIVERY_CUE = re.compile(r"着|納品|納入|お届け|届け|配達|午前|午後|までに|deliver", re.I)
_NOT_DELIVERY = re.compile(r"^日付|発行日|注文日|発注日|送信日|作成日|記入日|受信|orderdate|issued|sent", re.I)
_DATE_LABEL_PARTS = frozenset("納届希望")

# What fax OCR makes of the characters of a date: z for 2, i or l for 1, 昌 for 日, 信和 for 令和.
_DAY_LOOKALIKES = "昌旦目曰"
_DATE_REPAIRS = ((re.compile(r"(?<=[\d/])[zZ]|[zZ](?=[\d/])"), "2"),
                 (re.compile(r"(?<=[\d/])[iIl|]|[iIl|](?=[\d/iIl|])"), "1"),
                 (re.compile(r"(?<=\d)[oO]|[oO](?=\d)"), "0"),
                 (re.compile(rf"(?<=\d)\s*[{_DAY_LOOKALIKES}]"), "日"),
                 (re.compile(r"[信合今]和(?=\s*\d)"), "令和"),
                 # a slash read as 7 (11727(金)): only before a weekday, which then checks the date
                 (re.compile(r"(?<![\d/])(1[0-2]|0?[1-9])7([0-2]?\d|3[01])(?=\s*[(（]\s*[月火水木金土日])"), r"\1/\2"))


def delivery_date(lines: Sequence[Line], received_on: date, skip: set[int]) -> Field | None:
    """The date after a delivery label, else after a word that looks like one half read (納唱希望日: a
    label on a gray cell comes out of a fax as dither), else on a line that says it is for delivery,
    else the one date on the sheet after the day the fax came (doubted: nothing says what it is for)."""
    kept = [line for i, line in enumerate(lines) if i not in skip]
    labelled = [(line, found) for line in kept if (found := after(line, _DATE_LABEL)) is not None]
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
        unread = field_of(words or list(line.words), line.page, None, text=text,
                          reason=f"delivery date unreadable: {text!r}")
        # OCR's other readings of the date's word (明日 read 遇日, and again 明日): one date among them, doubted
        other = another_reading(words[0], lambda reading: _date_field(words, line.page, reading, received_on),
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


def _date_label_shaped(text: str) -> bool:
    """A short word ending in 日 or 期 (or what fax OCR makes of 日) that is no other date's label."""
    folded = fold_compact(text).strip("|[]:：")
    return 2 <= len(folded) <= 7 and folded[-1] in "日期" + _DAY_LOOKALIKES and not _NOT_DELIVERY.search(folded)


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
    result = field_of(words, page, first.value.isoformat(), text=first.text)
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
