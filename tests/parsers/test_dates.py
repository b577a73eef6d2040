"""parsers.dates: Japanese and English dates, eras and relative words, resolved against a reference day."""

from __future__ import annotations

from datetime import date

import pytest

from parsers.dates import find_dates, next_month_day, read_date

pytestmark = pytest.mark.dates

SATURDAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("2026/11/25", date(2026, 11, 25)),
        ("２０２６年１１月２５日", date(2026, 11, 25)),
        ("令和8年11月25日", date(2026, 11, 25)),
        ("令和８年１１月２５日", date(2026, 11, 25)),
        ("R8.11.25", date(2026, 11, 25)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("11月25日", date(2026, 11, 25)),
        ("11/25", date(2026, 11, 25)),
        ("１１／２５（水）", date(2026, 11, 25)),
        ("25日", date(2026, 11, 25)),
        ("Nov 25", date(2026, 11, 25)),
        ("November 25th, 2027", date(2027, 11, 25)),
        ("25 Nov 2026", date(2026, 11, 25)),
        ("25/11", date(2026, 11, 25)),
        ("今月末", date(2026, 11, 30)),
        ("来月5日", date(2026, 12, 5)),
    ],
)
def test_written_dates_are_read(text: str, expected: date) -> None:
    assert read_date(text, SATURDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本日", date(2026, 11, 21)),
        ("明日", date(2026, 11, 22)),
        ("あした", date(2026, 11, 22)),
        ("明後日", date(2026, 11, 23)),
        ("3日後", date(2026, 11, 24)),
        ("today", date(2026, 11, 21)),
        ("tomorrow", date(2026, 11, 22)),
        ("the day after tomorrow", date(2026, 11, 23)),
        ("in 3 days", date(2026, 11, 24)),
        ("来週火曜", date(2026, 11, 24)),
        ("来週の火曜日", date(2026, 11, 24)),
        ("来週(火)", date(2026, 11, 24)),
        ("来週（ 火 ）", date(2026, 11, 24)),
        ("再来週月曜", date(2026, 11, 30)),
        ("今週金曜", date(2026, 11, 20)),
        ("火曜日", date(2026, 11, 24)),
        ("週明け", date(2026, 11, 23)),
        ("on Tuesday", date(2026, 11, 24)),
        ("this Saturday", date(2026, 11, 21)),
        ("next Saturday", date(2026, 11, 28)),
        ("Tuesday next week", date(2026, 11, 24)),
    ],
)
def test_relative_words_count_from_the_reference_day(text: str, expected: date) -> None:
    assert read_date(text, SATURDAY) == expected


def test_a_date_without_a_year_is_the_next_such_date_on_or_after_the_reference() -> None:
    assert read_date("11/25", date(2026, 11, 25)) == date(2026, 11, 25)
    assert read_date("11/25", date(2026, 12, 1)) == date(2027, 11, 25)
    assert read_date("1月5日", date(2026, 12, 20)) == date(2027, 1, 5)
    assert read_date("5日", date(2026, 11, 21)) == date(2026, 12, 5)
    assert next_month_day(2, 29, date(2026, 3, 1)) == date(2028, 2, 29)


def test_a_wrong_weekday_keeps_the_date_and_says_so() -> None:
    (found,) = find_dates("11/25(月)", SATURDAY)
    assert found.value == date(2026, 11, 25)
    assert found.note == "11/25(月): 2026-11-25 is a Wednesday, not a Monday"
    assert find_dates("11/25(水)", SATURDAY)[0].note is None


@pytest.mark.parametrize("text", ["3日間", "5日以内", "2/30", "TEL 03-1234-5678", "10:30", "1.5kg", "期末", "3ケース"])
def test_durations_times_and_numbers_are_not_dates(text: str) -> None:
    assert find_dates(text, SATURDAY) == ()


def test_the_longest_form_wins_and_dates_come_in_text_order() -> None:
    found = find_dates("2026年11月25日に3ケース、明日に2ケース", SATURDAY)
    assert [(f.text, f.value) for f in found] == [("2026年11月25日", date(2026, 11, 25)), ("明日", date(2026, 11, 22))]
    assert found[0].start == 0
