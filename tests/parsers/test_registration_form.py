"""The application form's fields as written in a mail: labels in either language, widths, quoting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parsers.registration_form import FIELDS, missing, read_fields


def test_a_filled_in_form_is_read_whatever_the_labels_width_and_colon() -> None:
    text = "\n".join([
        "いつもお世話になっております。", "",
        "企業名：株式会社テスト食品", "本社所在地: 東京都中央区１－１－１", "ＴＥＬ：03-1234-5678",
        "代表ＪＡＮメーカーコード：４５６９９５１", "■ 認証先卸企業名：卸売商事株式会社", "認証先卸部署名：営業部",
        "認証先卸担当者名：佐藤 一郎", "Wholesaler contact email: Sato@Oroshi.example",
        "ID管理者名：管理 太郎", "ID administrator email: kanri@tesuto.example"])
    found = read_fields(text)
    assert found == {
        "company_name": "株式会社テスト食品", "company_address": "東京都中央区1-1-1", "company_phone": "03-1234-5678",
        "jan_maker_code": "4569951", "wholesaler_company": "卸売商事株式会社", "wholesaler_department": "営業部",
        "wholesaler_contact": "佐藤 一郎", "wholesaler_email": "Sato@Oroshi.example", "admin_name": "管理 太郎",
        "admin_email": "kanri@tesuto.example"}
    assert missing(found) == []


def test_the_form_quoted_back_blank_says_nothing_and_the_first_value_counts() -> None:
    text = "> 企業名：\n> 代表JANメーカーコード：\n企業名：\n企業名：みどり青果\n企業名：別の名前\n> 企業名：引用"
    assert read_fields(text) == {"company_name": "みどり青果"}
    assert {f.key for f in missing(read_fields(text))} == {f.key for f in FIELDS} - {"company_name"}


def test_prose_with_colons_is_not_a_field() -> None:
    assert read_fields("本日はありがとうございました：また連絡します\n時刻: 10:30") == {}


@given(st.text())
def test_any_text_reads_to_known_fields_only(text: str) -> None:
    found = read_fields(text)
    assert set(found) <= {f.key for f in FIELDS} and all(value.strip() for value in found.values())
