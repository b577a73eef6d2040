"""normalize_text / fold_for_match: one form for whatever the partner's input method produced."""

from __future__ import annotations

from parsers.normalize import fold_for_match, normalize_text


def test_full_width_letters_and_digits_become_ascii() -> None:
    assert normalize_text("ＯＫ１２３：") == "OK123:"


def test_half_width_katakana_become_full_width() -> None:
    assert normalize_text("ｼｮｳﾆﾝ ｶﾞｲﾄﾞ") == "ショウニン ガイド"


def test_odd_spaces_become_ascii_spaces() -> None:
    assert normalize_text("山田\u3000太郎\u00a0様") == "山田 太郎 様"


def test_line_endings_are_unified_and_trailing_spaces_dropped() -> None:
    assert normalize_text("a  \r\nb\u3000\rc\n") == "a\nb\nc\n"


def test_fold_for_match_lowercases_and_removes_all_whitespace() -> None:
    assert fold_for_match(" 承 認\u3000し\tま\nす ＯＫ ") == "承認しますok"


def test_invisible_characters_do_not_split_words() -> None:
    assert fold_for_match("承\u200b認") == "承認"
