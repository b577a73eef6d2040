"""Properties of dates and quantities: any text reads without an error, and a date or a quantity written in
any of the forms people use reads back as itself."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fuzzing import FUZZ, typed_text
from parsers.dates import ERAS, find_dates, next_month_day, read_date
from parsers.normalize import normalize_text
from parsers.units import UNITS, convert, parse_number, plain, read_quantity, unit_like, unit_of

# Days a partner writes about and the days they write on: this century, as the gateway sees them.
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def _wide(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})


def written_in_full(day: date, form: int) -> str:
    """``day`` with its year, in one of the ways mail and faxes write it."""
    y, m, d = day.year, day.month, day.day
    reiwa = y - ERAS["令和"]
    forms = [
        f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}.{m:02d}.{d:02d}", _wide(f"{y}年{m}月{d}日"),
        f"{MONTHS_EN[m - 1]} {d}, {y}", f"{d} {MONTHS_EN[m - 1][:3]} {y}", f"{MONTHS_EN[m - 1][:3]}. {d}th {y}",
        f"令和{'元' if reiwa == 1 else reiwa}年{m}月{d}日" if reiwa >= 1 else f"{y}年 {m}月 {d}日",
        f"R{reiwa}.{m}.{d}" if reiwa >= 1 else f"{y}/{m:02d}/{d:02d}",
        f"平成{y - ERAS['平成']}年{m}月{d}日" if y <= 2019 else f"{y}-{m}-{d}",
    ]
    return forms[form % len(forms)]


@FUZZ
@given(typed_text, days)
def test_any_text_reads_without_error_and_every_date_lies_where_it_was_written(text: str, reference: date) -> None:
    scanned = normalize_text(text)
    found = find_dates(text, reference)
    assert list(found) == sorted(found, key=lambda f: f.start)
    for f in found:
        assert 0 <= f.start < f.end <= len(scanned)
        assert f.text == scanned[f.start:f.end].strip()
    # No two readings of one piece of text: every match is masked for the rules after it.
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start
    assert read_date(text, reference) == (found[0].value if found else None)


@FUZZ
@given(days, days, st.integers(0, 100),
       st.sampled_from(["", "までにお願いします", "着で", " delivery please", "（必着）"]))
def test_a_date_written_with_its_year_reads_back_whatever_the_day_of_reading(
        day: date, reference: date, form: int, after: str) -> None:
    written = written_in_full(day, form)
    assert read_date(f"納品日：{written}{after}", reference) == day, written


@FUZZ
@given(days, days, st.sampled_from(["{m}月{d}日", "{m}/{d}", "{m}/{d}({w})", "{mon} {d}", "{d} {mon}", "{mw}月{dw}日"]))
def test_a_date_without_a_year_is_the_next_such_day_from_the_reference(day: date, reference: date, form: str) -> None:
    weekday = "月火水木金土日"[day.weekday()]
    written = form.format(m=day.month, d=day.day, w=weekday, mon=MONTHS_EN[day.month - 1],
                          mw=_wide(str(day.month)), dw=_wide(str(day.day)))
    found = read_date(written, reference)
    assert found is not None, written
    assert (found.month, found.day) == (day.month, day.day)
    assert found == next_month_day(day.month, day.day, reference)
    assert reference <= found
    # Within a year, or the next leap year for 2/29.
    assert found - reference < timedelta(days=366) or (day.month, day.day) == (2, 29)


@FUZZ
@given(days, st.sampled_from([("本日", 0), ("今日", 0), ("明日", 1), ("あした", 1), ("明後日", 2), ("today", 0),
                              ("tomorrow", 1), ("the day after tomorrow", 2), ("3日後", 3), ("in 5 days", 5)]))
def test_relative_words_count_from_the_reference(reference: date, word: tuple[str, int]) -> None:
    text, ahead = word
    assert read_date(f"{text}お届けします", reference) == reference + timedelta(days=ahead)


@FUZZ
@given(days, st.integers(0, 6), st.sampled_from(["今週", "来週", "再来週", ""]))
def test_a_weekday_reads_as_that_weekday_in_the_week_it_names(reference: date, weekday: int, week: str) -> None:
    found = read_date(f"{week}{'月火水木金土日'[weekday]}曜日に伺います", reference)
    assert found is not None and found.weekday() == weekday
    monday = reference - timedelta(days=reference.weekday())
    offset = {"今週": 0, "来週": 7, "再来週": 14}.get(week)
    if offset is None:
        assert reference <= found < reference + timedelta(days=7)
    else:
        assert found == monday + timedelta(days=offset + weekday)


# ---------------------------------------------------------------------------------------------
# Quantities

amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3).map(plain)
KANJI_DIGITS = "〇一二三四五六七八九"


def kanji(n: int) -> str:
    """n (1..9999) in kanji numerals as people write them: 千二百三十四, 十二, 百."""
    out = ""
    for power, sign in ((1000, "千"), (100, "百"), (10, "十")):
        digit, n = divmod(n, power)
        if digit:
            out += ("" if digit == 1 else KANJI_DIGITS[digit]) + sign
    return out + (KANJI_DIGITS[n] if n else "")


@FUZZ
@given(typed_text)
def test_quantity_readers_take_any_text(text: str) -> None:
    quantity = read_quantity(text)
    assert quantity is None or quantity.amount >= 0
    number = parse_number(text)
    assert number is None or number.is_finite()
    unit_of(text)
    unit_like(text)


@FUZZ
@given(amounts, st.sampled_from([(unit, word) for unit in UNITS for word in unit.words]), st.booleans(),
       st.sampled_from(["", " ", "\u3000"]))
def test_a_quantity_reads_back_in_every_spelling_of_its_unit(amount: Decimal, unit_word: tuple[object, str],
                                                            wide: bool, space: str) -> None:
    unit, word = unit_word
    number = f"{amount:,}" if amount >= 1000 and amount == amount.to_integral_value() else str(amount)
    written = f"{_wide(number) if wide else number}{space}{word}"
    quantity = read_quantity(written)
    assert quantity is not None, written
    assert quantity.amount == amount and quantity.unit == unit


@FUZZ
@given(st.integers(1, 9999))
def test_kanji_numerals_read_back(n: int) -> None:
    assert parse_number(kanji(n)) == n
    assert parse_number("".join(KANJI_DIGITS[int(d)] for d in str(n))) == n  # 二〇: positional


@FUZZ
@given(amounts, st.sampled_from([u for u in UNITS if u.dimension != "count"]),
       st.sampled_from([u for u in UNITS if u.dimension != "count"]))
def test_mass_and_volume_convert_there_and_back(amount: Decimal, a: object, b: object) -> None:
    there = convert(amount, a, b)  # type: ignore[arg-type]
    if there is None:
        assert a.dimension != b.dimension  # type: ignore[attr-defined]
        return
    assert convert(there, b, a) == amount  # type: ignore[arg-type]
