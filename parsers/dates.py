"""Dates as people write them in Japanese and English mail and faxes, resolved against a reference day.

Read: ``2026-11-25``, ``2026/11/25``, ``2026年11月25日``, era dates (``令和8年11月25日``,
``R8.11.25``, ``令和元年…``, 平成, 昭和), ``11月25日``, ``11/25`` and ``11/25(月)``, ``25日``,
``Nov 25``, ``November 25th, 2026``, ``25 Nov``, ``今月25日`` / ``来月5日`` / ``月末``, and relative
words: 本日 / 今日, 明日, 明後日, ``3日後``, 今週金曜, 来週火曜, 再来週, 週明け, a bare ``火曜日``,
today, tomorrow, the day after tomorrow, "in 3 days", "this Friday", "next Tuesday", "on Tuesday".

Resolution, all against ``reference`` (the day the text was written or received):

- a date without a year is the next such date on or after the reference day
  (``11/25`` read on 2026-12-01 is 2027-11-25); ``25日`` is the next 25th on or after it;
- ``来週火曜`` is the Tuesday of the next calendar week (weeks start on Monday),
  ``今週金曜`` the Friday of this week, ``週明け`` the next week's Monday;
- a bare weekday (``火曜日``, "on Tuesday", "this Tuesday") is the next one on or after the
  reference day; "next Tuesday" is the next one strictly after it;
- ``11/25(月)`` keeps the date and notes the weekday that does not match it.

Slash dates are month/day (Japanese and US use); ``25/11`` with a first number over 12
is read day/month. Durations (``3日間``, ``5日以内``) are not dates. Rules are tried
longest form first and every match is masked, so ``2026年11月25日`` is never also read
as ``11月25日`` or ``25日``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from parsers.normalize import normalize_text

__all__ = ["FoundDate", "find_dates", "read_date", "next_month_day", "ERAS", "TOKYO"]

# Partners write Japanese days: every date read or resolved is a day in this zone.
TOKYO = ZoneInfo("Asia/Tokyo")

# First year of each era minus one: 令和1年 = 2019.
ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
           "nov": 11, "dec": 12}
_JA_WEEKDAYS = "月火水木金土日"
_EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_MONTH_NAME = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
               r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# "(月)", "（水曜日）", "(Wed)", "(wednesday)" after a date.
_WEEKDAY_SUFFIX = (r"(?:\s*\(\s*(?P<wd>[月火水木金土日](?:曜(?:日)?)?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)"
                   r"\s*(?:[・,/]\s*祝)?\s*\))?")
_NOT_A_DAY = r"(?!\s*(?:間|以内|以上|前|分|程度|ほど|くらい|ぐらい|目|付け?|連続))"


@dataclass(frozen=True)
class FoundDate:
    value: date
    start: int  # position in normalize_text(text)
    end: int
    text: str
    note: str | None = None  # e.g. a weekday that does not match the date


def next_month_day(month: int, day: int, reference: date) -> date | None:
    """The next ``month``/``day`` on or after ``reference`` (Feb 29 waits for a leap year); None if no such day."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in range(reference.year, reference.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= reference:
            return candidate
    return None


def _next_day_of_month(day: int, reference: date) -> date | None:
    if not 1 <= day <= 31:
        return None
    year, month = reference.year, reference.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= reference:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _ymd(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday_index(word: str) -> int:
    word = word.lower()
    if word[0] in _JA_WEEKDAYS:
        return _JA_WEEKDAYS.index(word[0])
    return next(i for i, name in enumerate(_EN_WEEKDAYS) if name.startswith(word[:3]))


def _weekday_note(found: date, match: re.Match[str]) -> str | None:
    written = match.groupdict().get("wd")
    if not written or _weekday_index(written) == found.weekday():
        return None
    return (f"{match.group(0).strip()}: {found.isoformat()} is a {_WEEKDAY_NAMES[found.weekday()]}, "
            f"not a {_WEEKDAY_NAMES[_weekday_index(written)]}")


_Resolver = Callable[[re.Match[str], date], date | None]


def _era(match: re.Match[str], reference: date) -> date | None:
    year = 1 if match["ey"] == "元" else int(match["ey"])
    return _ymd(ERAS[match["era"].lower()] + year, int(match["m"]), int(match["d"]))


def _full(match: re.Match[str], reference: date) -> date | None:
    return _ymd(int(match["y"]), int(match["m"]), int(match["d"]))


def _month_name(match: re.Match[str], reference: date) -> date | None:
    month, day = _MONTHS[match["mon"][:3].lower()], int(match["d"])
    if match["y"]:
        return _ymd(int(match["y"]), month, day)
    return next_month_day(month, day, reference)


def _month_day(match: re.Match[str], reference: date) -> date | None:
    month, day = int(match["m"]), int(match["d"])
    if month > 12 and day <= 12:  # 25/11: day first
        month, day = day, month
    return next_month_day(month, day, reference)


def _this_or_next_month(match: re.Match[str], reference: date) -> date | None:
    ahead = {"今月": 0, "本月": 0, "来月": 1, "翌月": 1, "再来月": 2}.get(match["rel"] or "今月", 0)
    year, month = divmod(reference.year * 12 + reference.month - 1 + ahead, 12)
    month += 1
    day = calendar.monthrange(year, month)[1] if match["end"] or match["end2"] else int(match["d"])
    return _ymd(year, month, day)


def _relative_word(match: re.Match[str], reference: date) -> date | None:
    word = match["word"].lower()
    if word in ("本日", "今日", "きょう", "today"):
        return reference
    if word in ("明後日", "あさって", "翌々日") or "after" in word:
        return reference + timedelta(days=2)
    return reference + timedelta(days=1)


def _days_later(match: re.Match[str], reference: date) -> date | None:
    return reference + timedelta(days=int(match["n"] or match["n2"]))


def _weekday(match: re.Match[str], reference: date) -> date | None:
    target = _weekday_index(match["day"])
    week = (match.groupdict().get("week2") or match["week"] or "").lower()
    monday = reference - timedelta(days=reference.weekday())
    if week in ("今週", "this week"):
        return monday + timedelta(days=target)
    if week in ("来週", "next week"):
        return monday + timedelta(days=7 + target)
    if week == "再来週":
        return monday + timedelta(days=14 + target)
    ahead = (target - reference.weekday()) % 7
    if week == "next" and ahead == 0:
        ahead = 7
    return reference + timedelta(days=ahead)


def _week_start(match: re.Match[str], reference: date) -> date | None:
    return reference - timedelta(days=reference.weekday()) + timedelta(days=7)


def _day_only(match: re.Match[str], reference: date) -> date | None:
    return _next_day_of_month(int(match["d"]), reference)


def _rule(pattern: str, resolve: _Resolver) -> tuple[re.Pattern[str], _Resolver]:
    return re.compile(pattern, re.IGNORECASE), resolve


_EN_WEEKDAY = r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    _rule(r"(?<![a-z])(?P<era>令和|平成|昭和|r|h|s)\.?\s*(?P<ey>元|\d{1,2})\s*(?:年|[./-])\s*(?P<m>\d{1,2})\s*(?:月|[./-])"
          rf"\s*(?P<d>\d{{1,2}})(?!\d)\s*日?{_WEEKDAY_SUFFIX}", _era),
    _rule(r"(?<![\d.])(?P<y>(?:19|20)\d\d)\s*(?:年|[./-])\s*(?P<m>\d{1,2})\s*(?:月|[./-])\s*(?P<d>\d{1,2})(?!\d)\s*日?"
          f"{_WEEKDAY_SUFFIX}", _full),
    _rule(rf"(?<![a-z]){_MONTH_NAME}\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:\s*,?\s*(?P<y>(?:19|20)\d\d)(?!\d))?"
          f"{_WEEKDAY_SUFFIX}", _month_name),
    _rule(rf"(?<![\d.])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?{_MONTH_NAME}(?![a-z])\.?"
          r"(?:\s*,?\s*(?P<y>(?:19|20)\d\d)(?!\d))?", _month_name),
    _rule(rf"(?<![\d.])(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*日{_WEEKDAY_SUFFIX}", _month_day),
    _rule(r"(?P<rel>今月|本月|来月|翌月|再来月)(?:の?\s*(?P<d>\d{1,2})\s*日|(?P<end>末))|(?P<end2>月末)",
          _this_or_next_month),
    _rule(rf"(?<![\d/.,:])(?P<m>\d{{1,2}})\s*/\s*(?P<d>\d{{1,2}})(?![\d/]|\.\d){_WEEKDAY_SUFFIX}", _month_day),
    _rule(r"(?P<word>本日|今日|きょう|明後日|あさって|翌々日|明日|あした|あす|翌日|(?:the\s+)?day\s+after\s+tomorrow"
          r"|today|tomorrow)", _relative_word),
    _rule(r"(?P<n>\d{1,2})\s*日後|(?<![a-z])in\s+(?P<n2>\d{1,2})\s+days(?![a-z])", _days_later),
    _rule(r"週明け", _week_start),
    _rule(r"(?P<week>今週|来週|再来週)?の?\s*(?P<day>[月火水木金土日])曜(?:日)?", _weekday),
    _rule(r"(?P<week>今週|来週|再来週)\s*[(（]\s*(?P<day>[月火水木金土日])\s*[)）]", _weekday),  # 来週(火)
    _rule(rf"(?<![a-z])(?:(?P<week>this|next|coming|on)\s+)?{_EN_WEEKDAY}(?:\s+(?P<week2>this week|next week))?"
          r"(?![a-z])", _weekday),
    _rule(rf"(?<![\d月/.])(?P<d>\d{{1,2}})\s*日{_NOT_A_DAY}", _day_only),
)


def find_dates(text: str, reference: date) -> tuple[FoundDate, ...]:
    """Every date written in ``text``, in text order; positions are in ``normalize_text(text)``."""
    scanned = normalize_text(text)
    found: list[FoundDate] = []
    for pattern, resolve in _RULES:
        for match in pattern.finditer(scanned):
            value = resolve(match, reference)
            if value is None:
                continue  # 2/30, 13/45: not a date; leave it for nobody
            found.append(FoundDate(value, match.start(), match.end(), match.group(0).strip(),
                                   _weekday_note(value, match)))
        scanned = _mask(scanned, [(f.start, f.end) for f in found])
    return tuple(sorted(found, key=lambda f: f.start))


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


def read_date(text: str, reference: date) -> date | None:
    """The first date written in ``text``, or None."""
    found = find_dates(text, reference)
    return found[0].value if found else None
