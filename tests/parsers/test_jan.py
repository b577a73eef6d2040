"""read_maker_code / check_digit / is_valid_gtin: what an applicant writes in the JAN maker code field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.errors import ParserError
from parsers.jan import InvalidJanCode, MakerCode, check_digit, is_valid_gtin, read_maker_code

# Real codes: GS1 Japan's sample JAN, Wikipedia's EAN-13 (a German pen), UPC-A and EAN-8 examples.
GS1_JAPAN_SAMPLE = "4569951116179"
GERMAN_EAN13 = "4006381333931"
UPC_A = "036000291452"
EAN8 = "96385074"


# -- check digits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [GS1_JAPAN_SAMPLE, GERMAN_EAN13, UPC_A, EAN8, "4901234567894", "14569951116176"])
def test_check_digit_of_real_codes(code: str) -> None:
    assert check_digit(code[:-1]) == int(code[-1])
    assert is_valid_gtin(code)


@pytest.mark.parametrize("digits", ["", "123", "456995111617X", "４５６９９５１１１６１７", "45699511161790"])
def test_check_digit_wants_the_digits_of_a_gtin_without_its_check_digit(digits: str) -> None:
    with pytest.raises(InvalidJanCode):
        check_digit(digits)


def test_is_valid_gtin_reads_as_the_form_is_written() -> None:
    assert is_valid_gtin("４５６９９５１-１１６１７９")
    assert not is_valid_gtin("4569951116178")
    assert not is_valid_gtin("4569951")  # a maker code, not a GTIN
    assert not is_valid_gtin("JAN 4569951116179")


# -- maker codes as written ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "digits"), [
    ("4569951", "4569951"),                    # 7 digits: lent before 2001
    ("456995111", "456995111"),                # 9 digits: since 2001
    ("4569951110", "4569951110"),              # 10 digits: the newest
    ("４５６９９５１１１", "456995111"),            # full-width digits
    ("45-6995-111", "456995111"),
    ("４５６９９５－１１１", "456995111"),          # full-width hyphen
    ("45 6995 111\n", "456995111"),
    ("４５ー６９９５ー１１１", "456995111"),        # the IME's ー for a hyphen
    ("4901234", "4901234"),
])
def test_a_maker_code_as_written(text: str, digits: str) -> None:
    assert read_maker_code(text) == MakerCode(digits, "maker_code")
    assert read_maker_code(text).length == len(digits)
    assert read_maker_code(text).candidates == (digits,)


def test_a_jan_code_gives_its_first_nine_digits_and_the_other_candidates() -> None:
    code = read_maker_code("4569951116179")
    assert code == MakerCode("456995111", "jan13", "4569951116179")
    assert code.length == 9
    assert code.candidates == ("4569951", "456995111", "4569951116")


def test_a_case_code_is_read_as_the_jan_inside_it() -> None:
    code = read_maker_code("1 4569951 11617 6")  # ITF-14: indicator 1, then the JAN's first 12 digits
    assert code == MakerCode("456995111", "gtin14", "14569951116176")
    assert code.candidates == ("4569951", "456995111", "4569951116")


# -- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ja", "en"), [
    ("", "書かれていません", "no JAN maker code"),
    ("　", "書かれていません", "no JAN maker code"),
    ("45699５1a", "「a」は数字ではありません", "'a' is not a digit"),
    ("456995", "7桁・9桁・10桁", "7, 9 or 10 digits"),
    ("45699511", "短縮タイプ", "short (8-digit) JAN"),  # 8 digits, but no GTIN-8's check digit
    ("45699511161", "7桁・9桁・10桁", "(11 given)"),
    ("4569951116178", "チェックデジット", "check digit"),
    ("4569951116171", "最後は9です", "would end in 9"),
    (GERMAN_EAN13, "「45」か「49」", "starts with 40"),
    ("4006381", "「45」か「49」", "starts with 40"),
    (EAN8, "短縮タイプ", "short (8-digit) JAN"),
    (UPC_A, "UPC", "US or Canadian"),
    ("0" + UPC_A, "UPC", "US or Canadian"),               # a UPC-A as an EAN-13
    ("456995111617", "13桁", "check) digit missing"),      # a JAN without its check digit
    ("9784101092058", "ISBN", "ISBN"),
    ("9771234567003", "ISSN", "ISSN"),
    ("4910123450124", "定期刊行物コード", "magazine"),
    ("1920193006001", "書籍JANコードの2段目", "book"),
    ("2012345678903", "インストアコード", "in-store"),
    ("2112345", "インストアコード", "in-store"),
])
def test_refusals_say_why_in_both_languages(text: str, ja: str, en: str) -> None:
    with pytest.raises(InvalidJanCode) as caught:
        read_maker_code(text)
    assert ja in caught.value.reason_ja
    assert en in caught.value.reason_en
    assert caught.value.text == text
    assert isinstance(caught.value, ParserError) and isinstance(caught.value, ValueError)


def test_a_refusals_text_is_both_reasons() -> None:
    with pytest.raises(InvalidJanCode, match="JANメーカーコードは7桁・9桁・10桁.* / a JAN maker code has 7, 9 or 10"):
        read_maker_code("12345")


# -- properties (issue 23) -----------------------------------------------------------------------------

def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def _japanese_maker_codes() -> st.SearchStrategy[str]:
    def starts_as_a_company(code: str) -> bool:
        return not code.startswith("491")

    return st.builds(lambda flag, rest: flag + rest, st.sampled_from(["45", "49"]),
                     st.sampled_from([5, 7, 8]).flatmap(_digits)).filter(starts_as_a_company)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(_digits))
def test_appending_the_check_digit_makes_a_valid_gtin(payload: str) -> None:
    assert is_valid_gtin(payload + str(check_digit(payload)))


@given(st.sampled_from([7, 11, 12, 13]).flatmap(_digits), st.data())
def test_changing_any_one_digit_makes_it_invalid(payload: str, data: st.DataObject) -> None:
    code = payload + str(check_digit(payload))
    at = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != code[at]]))
    assert not is_valid_gtin(code[:at] + other + code[at + 1:])


@given(st.text())
def test_read_maker_code_raises_nothing_but_invalid_jan_code(text: str) -> None:
    try:
        code = read_maker_code(text)
    except InvalidJanCode as refused:
        assert refused.reason_ja and refused.reason_en
    else:
        assert code.digits.isascii() and code.digits.isdigit()


# The same, where it matters: texts almost all digits, in the lengths and forms applicants write.
@given(st.text(alphabet="0123456789０１２３４５６７８９ -－ー\u3000x", max_size=16))
def test_read_maker_code_raises_nothing_but_invalid_jan_code_on_digit_like_text(text: str) -> None:
    try:
        read_maker_code(text)
    except InvalidJanCode:
        pass


@given(st.text())
def test_is_valid_gtin_never_raises(text: str) -> None:
    assert is_valid_gtin(text) in (True, False)


@given(_japanese_maker_codes(), st.booleans(), st.booleans())
def test_a_maker_code_reads_back_however_it_is_written(digits: str, full_width: bool, hyphen: bool) -> None:
    text = f"{digits[:2]}-{digits[2:]}" if hyphen else digits
    if full_width:
        text = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-"})
    assert read_maker_code(text) == MakerCode(digits)


@given(_japanese_maker_codes(), st.data())
def test_a_jan_code_made_from_a_maker_code_gives_it_back_as_a_candidate(digits: str, data: st.DataObject) -> None:
    payload = digits + data.draw(_digits(12 - len(digits)))
    jan = payload + str(check_digit(payload))
    code = read_maker_code(jan)
    assert code.full_code == jan and code.source == "jan13"
    assert digits in code.candidates
    assert read_maker_code(code.digits) == MakerCode(code.digits)  # what it kept reads as a maker code
