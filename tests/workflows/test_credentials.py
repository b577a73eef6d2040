"""Temporary credentials: what we print, how we store it, and how we find it in a partner's mail."""

from __future__ import annotations

import string
import time
from collections import Counter
from typing import Any

import pytest

from parsers.credential_text import ALPHABET, LENGTH, find_credentials, is_well_formed, normalize_credential
from workflows.credentials import hash_secret, lookup_key, new_temporary_credentials, verify_secret

ID, PASSWORD = "KP4M7RTX", "HN9WE3AC"
SERVER_KEY = b"k" * 32


def test_the_alphabet_has_no_characters_that_paper_fax_or_ocr_confuse() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 24
    assert set(ALPHABET) <= set(string.ascii_uppercase + string.digits)
    for look_alike in "0ODQ1IL" "SZBGV":
        assert look_alike not in ALPHABET


def test_new_credentials_are_eight_alphabet_characters_and_differ() -> None:
    for _ in range(100):
        temp_id, temp_password = new_temporary_credentials()
        assert len(temp_id) == len(temp_password) == LENGTH
        assert is_well_formed(temp_id) and is_well_formed(temp_password)
        assert temp_id != temp_password


def test_new_credentials_use_the_whole_alphabet_evenly_and_never_repeat() -> None:
    drawn = [new_temporary_credentials() for _ in range(1000)]
    values = [value for pair in drawn for value in pair]
    assert len(set(values)) == len(values)
    counts = Counter("".join(values))
    expected = len(values) * LENGTH / len(ALPHABET)  # 666.7
    assert set(counts) == set(ALPHABET)
    assert all(0.75 * expected < count < 1.25 * expected for count in counts.values()), counts


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("KP4M7RTX", "KP4M7RTX"),
        ("kp4m-7rtx", "KP4M7RTX"),
        ("KP4M 7RTX", "KP4M7RTX"),
        ("ＫＰ４Ｍ－７ＲＴＸ", "KP4M7RTX"),
        ("ｋｐ４ｍ　７ｒｔｘ", "KP4M7RTX"),
        ("KP4Mー7RTX", "KP4M7RTX"),  # the katakana long vowel mark a Japanese IME types for "-"
        ("KP4M\u22127RTX", "KP4M7RTX"),
        ("H5ZB GV2A", "H5286U2A"),  # S Z B G V are read as the 5 2 8 6 U that were printed
    ],
)
def test_normalize_reads_what_a_partner_typed_as_what_we_printed(typed: str, normalized: str) -> None:
    assert normalize_credential(typed) == normalized
    assert is_well_formed(normalized)


def test_characters_without_a_twin_in_the_alphabet_stay_and_are_not_well_formed() -> None:
    assert normalize_credential("KP4M7RT0") == "KP4M7RT0"
    assert not is_well_formed("KP4M7RT0")
    assert not is_well_formed("KP4M7RTXX")
    assert not is_well_formed("KP4M7RT")


def test_hash_secret_is_salted_and_verifies_the_value_however_it_is_typed() -> None:
    stored = hash_secret(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert hash_secret(PASSWORD) != stored  # a fresh salt each time
    assert verify_secret(PASSWORD, stored)
    assert verify_secret("hn9w-e3ac", stored)
    assert verify_secret("ＨＮ９Ｗ　Ｅ３ＡＣ", stored)


def test_verify_secret_refuses_another_value_and_malformed_hashes_without_raising() -> None:
    stored = hash_secret(PASSWORD)
    assert not verify_secret(ID, stored)
    assert not verify_secret(PASSWORD[:-1], stored)
    for broken in ("", "garbage", "scrypt$14$8$1$!!$!!", "scrypt$99$8$1$AAAA$AAAA", "bcrypt$14$8$1$AAAA$AAAA",
                   stored.rsplit("$", 1)[0] + "$" + "A" * 43):
        assert not verify_secret(PASSWORD, broken)


def test_lookup_key_finds_the_id_however_typed_and_only_with_the_server_key() -> None:
    key = lookup_key(ID, SERVER_KEY)
    assert len(key) == 64 and ID not in key
    assert lookup_key("kp4m 7rtx", SERVER_KEY) == key
    assert lookup_key(ID, b"x" * 32) != key
    assert lookup_key("KP4M7RTY", SERVER_KEY) != key
    with pytest.raises(ValueError):
        lookup_key(ID, b"short")


@pytest.mark.parametrize(
    "mail",
    [
        "仮ID：KP4M-7RTX\n仮パスワード：HN9W-E3AC\n承認します。",
        "仮ID: KP4M7RTX 仮パスワード: HN9WE3AC",
        "ID: KP4M7RTX\nPassword: HN9WE3AC",
        "Temporary ID: KP4M 7RTX / Temporary password: HN9W E3AC",
        "The temporary ID is kp4m-7rtx and the password is hn9w-e3ac.\nWe approve.\nEmma",
        "KP4M7RTX / HN9WE3AC",
        "KP4M 7RTX HN9W E3AC",
        "KP4M-7RTX、HN9W-E3AC で承認お願いします",
        "仮ＩＤ：ＫＰ４Ｍ－７ＲＴＸ　仮パスワード：ＨＮ９Ｗ　Ｅ３ＡＣ",
        "ｋｐ４ｍ７ｒｔｘ\nｈｎ９ｗｅ３ａｃ",
        "仮ID\nKP4M 7RTX\n仮パスワード\nHN9W E3AC",
        "仮ID　　　仮パスワード\nKP4M7RTX　HN9WE3AC",
        "ID/パスワード：KP4M7RTX / HN9WE3AC",
        "パスワード：HN9WE3AC\nID：KP4M7RTX",
        "仮IDはKP4M7RTX、パスワードはHN9WE3ACです。承認します。",
        "ID KP4M 7RTX PW HN9W E3AC",
        "仮ID：KP4M ー 7RTX\n仮パスワード：HN9W − E3AC",
        "承認します。\n\n仮ID：KP4M-7RTX\n仮パスワード：HN9W-E3AC\n\n"
        "━━━━━━━━━━\n株式会社インフォ物産\n山田 太郎\nTEL 03-1234-5678\n",
    ],
)
def test_find_credentials_reads_every_layout_partners_write(mail: str) -> None:
    assert find_credentials(mail)[0] == (ID, PASSWORD)


def test_find_credentials_reads_look_alikes_in_labelled_values() -> None:
    assert find_credentials("仮ID：KP4M-7RTX\n仮パスワード：H5ZB-GV2A")[0] == (ID, "H5286U2A")


def test_credentials_only_in_quoted_history_are_still_found() -> None:
    mail = "承認します\n\n> 仮ID：KP4M-7RTX\n> 仮パスワード：HN9W-E3AC\n"
    assert find_credentials(mail)[0] == (ID, PASSWORD)


def test_what_the_partner_newly_wrote_ranks_above_quoted_history() -> None:
    mail = ("仮ID：KP4M-7RTX\n仮パスワード：HN9W-E3AC\n\n"
            "2026年11月21日(土) 10:00 Torii <noreply@torii.example>:\n"
            "> 仮ID：XY23-HWX2\n> 仮パスワード：R9R8-2FMM\n")
    found = find_credentials(mail)
    assert found[0] == (ID, PASSWORD)
    assert ("XY23HWX2", "R9R82FMM") in found


@pytest.mark.parametrize(
    "mail",
    [
        "",
        "承認します。担当者：山田 太郎",
        "TEL 03-1234-5678 / FAX 03-1234-5679\n〒100-0005 東京都千代田区丸の内1-1-1",
        "注文番号 12345678、納品日 2026/11/25、数量 120ケース",
        "Thanks for the invitation. We APPROVE and will contact you tomorrow.",
        "招待番号：TORII-INV-1001-JM6YJ6",
        "仮ID：KP4M-7RTX だけ書きます",  # an ID without a password is no pair
    ],
)
def test_find_credentials_finds_nothing_in_ordinary_mail(mail: str) -> None:
    assert find_credentials(mail) == []


@pytest.mark.parametrize("mail", [None, 12345, b"KP4M7RTX HN9WE3AC", "\x00\ud800" * 100, "A" * 100_000])
def test_find_credentials_never_raises(mail: Any) -> None:
    assert find_credentials(mail) == []


def test_find_credentials_is_fast_on_a_long_mail() -> None:
    mail = ("いつもお世話になっております。ご招待の件、承知いたしました。 AB CD EF 12 34\n" * 2000
            + "仮ID：KP4M-7RTX\n仮パスワード：HN9W-E3AC\n")
    started = time.perf_counter()
    assert find_credentials(mail)[0] == (ID, PASSWORD)
    assert time.perf_counter() - started < 2.0
