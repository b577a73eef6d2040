"""company_key / legal_form / display_name: companies as the registration desk looks them up."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.company_names import ENGLISH_FORMS, JAPANESE_FORMS, company_key, display_name, legal_form

# -- the manual's examples and their like ----------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "株式会社　インフォ商会",
    "(株)インフォ商会",
    "（株）インフォ商会",
    "ｲﾝﾌｫ商会㈱",
    "インフォ商会 株式会社",
    "インフォ商会株式会社",
    "㍿インフォ商会",
    "株式 会社 インフォ 商会",
    "( 株 ) インフォ商会",
    "インフォ・商会",
    "インフォ商会 (株)",
])
def test_the_ways_one_company_is_written_have_one_key(name: str) -> None:
    assert company_key(name) == "インフォ商会"


@pytest.mark.parametrize("name", [
    "Info Shokai Co., Ltd.",
    "INFO SHOKAI INC",
    "Info Shokai Co.,Ltd.",
    "ＩＮＦＯ　ＳＨＯＫＡＩ　ＣＯ．，ＬＴＤ．",
    "Info Shokai Corporation",
    "Info Shokai Corp.",
    "Info Shokai Company, Limited",
    "Info Shokai Ltd",
    "Info Shokai LLC",
    "Info Shokai K.K.",
    "K.K. Info Shokai",
    "Kabushiki Kaisha Info Shokai",
    "Info Shokai Kabushiki-Gaisha",
    "Info Shokai G.K.",
    "Info-Shokai, Inc.",
])
def test_english_forms_are_dropped_too(name: str) -> None:
    assert company_key(name) == "infoshokai"


@pytest.mark.parametrize(("name", "key"), [
    ("有限会社さくら食堂", "さくら食堂"),
    ("さくら食堂㈲", "さくら食堂"),
    ("合同会社ミドリ", "ミドリ"),
    ("ミドリ(同)", "ミドリ"),
    ("一般社団法人 日本ｺｰﾋｰ協会", "日本コヒ協会"),
    ("㈳日本コーヒー協会", "日本コヒ協会"),
    ("医療法人社団　健康会", "健康会"),
    ("社会福祉法人　ひかり会", "ひかり会"),
    ("特定非営利活動法人 あおぞら", "あおぞら"),
    ("NPO法人あおぞら", "あおぞら"),
    ("株式会社インフォ商会 東京支店", "インフォ商会東京支店"),     # Japanese forms go wherever they are
    ("インフォ商会株式会社 (Info Shokai Co., Ltd.)", "インフォ商会infoshokai"),
])
def test_other_japanese_forms(name: str, key: str) -> None:
    assert company_key(name) == key


@pytest.mark.parametrize(("a", "b"), [
    ("コンピューター販売", "コンピュータ販売"),    # ー dropped: the desk finds either spelling under the other
    ("コ-ヒ-商店", "コーヒー商店"),              # a hyphen typed for ー
    ("コ−ヒ−商店", "コーヒー商店"),              # a minus sign typed for ー
    ("ﾄﾞﾘｰﾑ･ﾜｰｸｽ", "ドリームワークス"),           # half-width, with a half-width middle dot
    ("A&B Trading Inc.", "AB Trading"),
])
def test_long_vowels_dashes_and_punctuation_do_not_matter(a: str, b: str) -> None:
    assert company_key(a) == company_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("さくら食堂", "サクラ食堂"),        # hiragana and katakana are two names
    ("髙橋商店", "高橋商店"),            # so are old and new kanji
    ("Info Corp. Japan", "Info Japan"),  # English forms count only at the end
    ("Co-op Foods", "Op Foods"),         # "Co" only ends a name
    ("Princeton", "Pr"),                 # only as whole words
    ("Marco", "Mar"),
])
def test_what_stays_apart(a: str, b: str) -> None:
    assert company_key(a) != company_key(b)


def test_a_name_that_is_only_a_legal_form_has_an_empty_key() -> None:
    assert company_key("株式会社") == company_key("Co., Ltd.") == company_key("　") == ""


@pytest.mark.parametrize(("name", "form"), [
    ("株式会社　インフォ商会", "株式会社"),
    ("ｲﾝﾌｫ商会㈱", "株式会社"),
    ("(株)インフォ商会", "株式会社"),
    ("㍿インフォ商会", "株式会社"),
    ("さくら食堂㈲", "有限会社"),
    ("ミドリ（同）", "合同会社"),
    ("一般社団法人 日本コーヒー協会", "一般社団法人"),
    ("㈳日本コーヒー協会", "社団法人"),
    ("医療法人社団 健康会", "医療法人社団"),
    ("Info Shokai Co., Ltd.", "Co., Ltd."),
    ("INFO SHOKAI CO.,LTD", "Co., Ltd."),
    ("INFO SHOKAI INC", "Inc."),
    ("Kabushiki Kaisha Info Shokai", "Kabushiki Kaisha"),
    ("Info Corp. Inc.", "Inc."),
    ("インフォ商会株式会社 (Info Shokai Co., Ltd.)", "株式会社"),   # the Japanese one is the registered form
    ("インフォ商会", None),
    ("Info Corp. Japan", None),
    ("", None),
])
def test_legal_form(name: str, form: str | None) -> None:
    assert legal_form(name) == form


@pytest.mark.parametrize(("name", "shown"), [
    ("株式会社　インフォ商会", "株式会社 インフォ商会"),
    ("ｲﾝﾌｫ商会㈱", "インフォ商会(株)"),
    ("ＩＮＦＯ　ＳＨＯＫＡＩ  Co.,Ltd.\n", "INFO SHOKAI Co.,Ltd."),
    ("  インフォ商会 株式会社 ", "インフォ商会 株式会社"),
])
def test_display_name_keeps_the_form_as_written(name: str, shown: str) -> None:
    assert display_name(name) == shown


# -- properties ---------------------------------------------------------------------------------------

# Text with everything a form is made of, to insert spaces into: no Latin letters, as spaces are where
# English words begin and end.
_FORM_SPELLINGS = [f for form, abbreviations in JAPANESE_FORMS.items()
                   for f in (form, *(f"({a})" for a in abbreviations))] + ["㈱", "㈲", "㍿", "（株）"]
_JAPANESE_TEXT = st.lists(st.one_of(st.sampled_from(_FORM_SPELLINGS),
                                    st.text(alphabet="インフォ商会ｲﾝﾌｫｶﾞﾞ゛ー・ｰ々()（）株式有限社団法人0１・&",
                                            max_size=4)),
                          max_size=6).map("".join)
# Names with none of the characters legal forms are made of (a name can end in 「株式会」, and then
# 「株式会」+「社会福祉法人」 and 「株式会社」+「会福祉法人」 are one text with two answers).
_NAME_CHARACTERS = ("アイウエオカキクケコサシスセソタチツテトナニヌネノハマヤラワンガパャッー・"
                    "商店工業食品東京日本堂屋製作所&")
_NAMES = st.text(alphabet=_NAME_CHARACTERS + "abcdefghijklmnopqrstuvwxyzABCXYZ 0123.,", max_size=20)
_SPACES = st.text(alphabet=" \u3000\t\n", min_size=1, max_size=3)


@given(st.text())
def test_company_key_is_idempotent(name: str) -> None:
    key = company_key(name)
    assert company_key(key) == key


@given(st.text())
def test_company_key_sees_through_nfkc(name: str) -> None:
    assert company_key(unicodedata.normalize("NFKC", name)) == company_key(name)


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_full_width_ascii_has_the_key_of_ascii(name: str) -> None:
    assert company_key(name.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})) == company_key(name)


_TO_HALF_WIDTH = {ord(unicodedata.normalize("NFKC", chr(c))): chr(c) for c in range(0xFF66, 0xFF9E)
                  if len(unicodedata.normalize("NFKC", chr(c))) == 1}


@given(st.text(alphabet="アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンッャュョー・商会"))
def test_half_width_katakana_has_the_key_of_full_width(name: str) -> None:
    assert company_key(name.translate(_TO_HALF_WIDTH)) == company_key(name)


@given(st.text(), _SPACES, _SPACES, st.data())
def test_spaces_around_words_do_not_matter(name: str, before: str, after: str, data: st.DataObject) -> None:
    widened = before + "".join(c + data.draw(_SPACES) if c.isspace() else c for c in name) + after
    assert company_key(widened) == company_key(name)


@given(_JAPANESE_TEXT, st.data())
def test_spaces_anywhere_in_japanese_do_not_matter(name: str, data: st.DataObject) -> None:
    spaced = "".join(c + data.draw(st.sampled_from(["", " ", "\u3000"])) for c in name)
    assert company_key(spaced) == company_key(name)


@given(_NAMES, st.sampled_from(_FORM_SPELLINGS), st.sampled_from(["", " ", "\u3000"]), st.booleans())
def test_a_japanese_form_before_or_after_does_not_change_the_key(name: str, form: str, space: str,
                                                                  before: bool) -> None:
    formed = form + space + name if before else name + space + form
    assert company_key(formed) == company_key(name)


_ENDING_FORMS = [display for display, _, _ in ENGLISH_FORMS]
_LEADING_FORMS = [display for display, _, leads in ENGLISH_FORMS if leads]


@given(_NAMES, st.sampled_from(_ENDING_FORMS), st.sampled_from(["", ",", "."]), st.booleans())
def test_an_english_form_at_the_end_does_not_change_the_key(name: str, form: str, comma: str, upper: bool) -> None:
    form = form.upper() if upper else form
    assert company_key(f"{name}{comma} {form}") == company_key(name)


@given(_NAMES, st.sampled_from(_LEADING_FORMS), st.booleans())
def test_an_english_form_at_the_start_does_not_change_the_key(name: str, form: str, upper: bool) -> None:
    form = form.upper() if upper else form
    assert company_key(f"{form} {name}") == company_key(name)


@given(st.text())
def test_legal_form_and_display_name_take_any_text(name: str) -> None:
    form = legal_form(name)
    assert form is None or form in JAPANESE_FORMS or form in _ENDING_FORMS
    assert display_name(display_name(name)) == display_name(name)
