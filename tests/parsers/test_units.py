"""parsers.units: one table of units for mail answers and fax orders, and quantities read from text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parsers.units import UNITS, Dimension, convert, parse_number, plain, read_quantity, unit_like, unit_of


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("ケース", "case"), ("ｹｰｽ", "case"), ("cs", "case"), ("case", "case"), ("Cases", "case"), ("ＣＳ", "case"),
        ("箱", "box"), ("box", "box"), ("boxes", "box"),
        ("本", "bottle"), ("袋", "bag"), ("個", "piece"), ("pcs", "piece"), ("枚", "sheet"), ("パック", "pack"),
        ("kg", "kg"), ("ｋｇ", "kg"), ("キロ", "kg"), ("kilograms", "kg"), ("g", "g"), ("グラム", "g"),
        ("L", "l"), ("リットル", "l"), ("ℓ", "l"), ("mL", "ml"), ("ml", "ml"), ("cc", "ml"),
    ],
)
def test_every_spelling_of_a_unit_names_the_same_unit(word: str, code: str) -> None:
    unit = unit_of(word)
    assert unit is not None and unit.code == code


def test_an_unknown_word_is_no_unit() -> None:
    assert unit_of("式") is None
    assert unit_of("トマト") is None


def test_mass_and_volume_convert_within_their_dimension() -> None:
    kg, g, litre, ml = unit_of("kg"), unit_of("g"), unit_of("L"), unit_of("mL")
    assert kg and g and litre and ml
    assert convert(Decimal(2), kg, g) == Decimal(2000)
    assert convert(Decimal(500), g, kg) == Decimal("0.5")
    assert convert(Decimal("1.5"), litre, ml) == Decimal(1500)
    assert str(convert(Decimal(2), kg, g)) == "2000"  # never "2E+3"


def test_counting_units_do_not_convert_into_each_other_nor_across_dimensions() -> None:
    case, piece, kg, litre = unit_of("ケース"), unit_of("個"), unit_of("kg"), unit_of("L")
    assert case and piece and kg and litre
    assert convert(Decimal(1), case, piece) is None
    assert convert(Decimal(1), kg, litre) is None
    assert convert(Decimal(3), case, case) == Decimal(3)


def test_every_unit_has_a_dimension_and_a_positive_factor() -> None:
    assert all(isinstance(u.dimension, Dimension) and u.factor > 0 for u in UNITS)
    assert len({u.code for u in UNITS}) == len(UNITS)


@pytest.mark.parametrize(
    ("text", "amount", "code"),
    [
        ("３ケース", "3", "case"), ("3 ケース", "3", "case"), ("2.5 kg", "2.5", "kg"), ("1,200g", "1200", "g"),
        ("三箱", "3", "box"), ("十二本", "12", "bottle"), ("百二十個", "120", "piece"), ("５ cases", "5", "case"),
        ("12", "12", None),
    ],
)
def test_a_quantity_written_alone_is_read_with_its_unit(text: str, amount: str, code: str | None) -> None:
    quantity = read_quantity(text)
    assert quantity is not None
    assert quantity.amount == Decimal(amount)
    assert (quantity.unit.code if quantity.unit else None) == code


@pytest.mark.parametrize("text", ["3 lemons", "5 go", "トマト", "", "二三十"])
def test_text_that_is_not_a_quantity_is_not_read_as_one(text: str) -> None:
    assert read_quantity(text) is None


def test_numbers_in_digits_and_kanji() -> None:
    assert parse_number("１，２００") == Decimal(1200)
    assert parse_number("二〇") == Decimal(20)
    assert parse_number("千五百") == Decimal(1500)
    assert parse_number("abc") is None


def test_plain_drops_trailing_zeros_without_exponents() -> None:
    assert str(plain(Decimal("3.000"))) == "3"
    assert str(plain(Decimal("2.50"))) == "2.5"
    assert str(plain(Decimal("2E+3"))) == "2000"


def test_a_kana_unit_one_character_off_is_guessed_only_when_one_unit_is_that_near() -> None:
    assert [(word, getattr(unit_like(word), "code", None)) for word in ("サース", "パッケ", "ーック", "リットレ")] == [
        ("サース", "case"), ("パッケ", "pack"), ("ーック", "pack"), ("リットレ", "l")]
    # too short to tell, too far off, or a word that is no unit at all
    assert [unit_like(word) for word in ("コ", "キロ", "のラク", "トマト", "kgs")] == [None] * 5
