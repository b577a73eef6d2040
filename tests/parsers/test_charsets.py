"""decode_bytes / decode_header_value: every charset label partners send, and the lies they tell."""

from __future__ import annotations

import base64
import random

import pytest

from parsers.charsets import decode_bytes
from parsers.mime.encoded_words import decode_header_value

NEC_AND_IBM = "①②㈱㈲№℡∑ⅰⅱ纊褜"  # NEC row 13, NEC-selected and IBM extensions


@pytest.mark.parametrize("label", ["shift_jis", "Shift_JIS", "sjis", "x-sjis", "windows-31j", "MS_Kanji", "shift-jis",
                                   "cp932", '"Shift_JIS"'])
def test_every_shift_jis_label_decodes_cp932_extensions(label: str) -> None:
    text = f"承認します{NEC_AND_IBM}ｱｲｳ"
    assert decode_bytes(text.encode("cp932"), label) == (text, [])


def test_iso_2022_jp_nec_row_13_characters_are_decoded() -> None:
    # CP50220/50221 put NEC row 13 at JIS row 0x2D: ① is ESC $ B 2D 21.
    assert decode_bytes(b"\x1b$B-!-j\x1b(B", "iso-2022-jp") == ("①㈱", [])


def test_iso_2022_jp_ibm_extensions_are_decoded() -> None:
    # IBM extensions travel as NEC-selected rows 89-92 (JIS 0x79-0x7C).
    assert decode_bytes(b"\x1b$By!\x1b(B", "ISO-2022-JP") == ("纊", [])


def test_iso_2022_jp_half_width_katakana_after_esc_paren_i() -> None:
    assert decode_bytes(b"\x1b(I6]\x1b(B ok", "iso-2022-jp") == ("ｶﾝ ok", [])


@pytest.mark.parametrize("label", ["iso-2022-jp", "ISO-2022-JP-EXT", "iso-2022-jp-1", "iso-2022-jp-2", "csISO2022JP"])
def test_every_iso_2022_jp_label_uses_our_decoder(label: str) -> None:
    assert decode_bytes("承認します。担当者：山田".encode("iso2022_jp"), label) == ("承認します。担当者：山田", [])


def test_iso_2022_jp_line_without_a_return_to_ascii_is_read_and_reported() -> None:
    text, defects = decode_bytes(b"\x1b$B>5G'\n\x1b$B>5G'\x1b(B", "iso-2022-jp")
    assert text == "承認\n承認"
    assert defects == ["'iso-2022-jp' text has line(s) that do not return to ASCII"]


def test_iso_2022_jp_label_on_8bit_bytes_is_detected_and_reported() -> None:
    text, defects = decode_bytes("保留でお願いします".encode("euc_jp"), "iso-2022-jp")
    assert text == "保留でお願いします"
    assert defects == ["charset 'iso-2022-jp' declared but the bytes are 8-bit; decoded as euc_jp (looks Japanese)"]


def test_euc_jp_with_nec_characters_is_decoded_as_cp51932() -> None:
    data = "承認".encode("euc_jp") + b"\xad\xa1\xad\xea"  # ① ㈱ in CP51932
    text, defects = decode_bytes(data, "EUC-JP")
    assert text == "承認①㈱"
    assert defects and "CP51932" in defects[0]


@pytest.mark.parametrize(
    ("data", "label", "text", "defect"),
    [
        ("承認します".encode(), "x-foo", "承認します", "unknown charset 'x-foo'; decoded as utf-8"),
        ("承認します".encode("cp932"), "x-foo", "承認します",
         "unknown charset 'x-foo'; decoded as cp932 (looks Japanese)"),
        ("héllo".encode(), "us-ascii", "héllo", "charset 'us-ascii' does not fit the bytes; decoded as utf-8"),
        ("承認".encode(), "shift_jis", "承認",
         "charset 'shift_jis' declared but the bytes are utf-8; decoded as utf-8"),
        ("保留です".encode("cp932"), "iso-8859-1", "保留です",
         "charset 'iso-8859-1' declared but the bytes are Japanese; decoded as cp932 (looks Japanese)"),
        ("承認".encode(), None, "承認", "no charset declared; decoded as utf-8"),
    ],
)
def test_wrong_or_unknown_labels_fall_back_and_say_so(data: bytes, label: str | None, text: str, defect: str) -> None:
    assert decode_bytes(data, label) == (text, [defect])


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [("안녕하세요", "cp949", "ks_c_5601-1987"), ("你好世界", "gb2312", "gb2312"), ("你好", "gbk", "GBK"),
     ("Grüße", "cp1252", "iso-8859-1"), ("Grüße", "utf-8", "UTF8"), ("Grüße", "utf-8", "utf-8")],
)
def test_charset_aliases_map_to_supersets(text: str, codec: str, label: str) -> None:
    assert decode_bytes(text.encode(codec), label) == (text, [])


def test_western_text_with_a_latin1_label_stays_western() -> None:
    text = "Die Hasen und die Frösche"
    assert decode_bytes(text.encode("latin-1"), "iso-8859-1") == (text, [])


@pytest.mark.parametrize("label", [None, "utf-8", "iso-2022-jp", "shift_jis", "euc-jp", "us-ascii", "x-unknown",
                                   "utf-16", "rot13", "base64", "", "utf-8*ja", "\x00"])
def test_no_bytes_make_decoding_raise(label: str | None) -> None:
    rng = random.Random(label)
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        text, defects = decode_bytes(data, label)
        assert isinstance(text, str) and isinstance(defects, list)


def test_adjacent_encoded_words_cut_mid_character_are_joined() -> None:
    raw = "承認します".encode()
    value = f"=?UTF-8?B?{base64.b64encode(raw[:4]).decode()}?=\r\n =?utf-8?B?{base64.b64encode(raw[4:]).decode()}?="
    assert decode_header_value(value) == ("承認します", [])


def test_q_encoded_words_and_literal_text_are_combined() -> None:
    assert decode_header_value("Re: =?UTF-8?Q?=E6=89=BF=E8=AA=8D_OK?= (INV-1)") == ("Re: 承認 OK (INV-1)", [])


def test_encoded_words_in_different_charsets_are_decoded_separately() -> None:
    value = "=?ISO-2022-JP?B?GyRCPjVHJxsoQg==?= =?UTF-8?B?44GX44G+44GZ?="
    assert decode_header_value(value) == ("承認します", [])


def test_bad_base64_padding_and_unknown_charset_in_a_header_still_decode() -> None:
    assert decode_header_value("=?NONE?B?VEVTVA=?=") == ("TEST", [])  # "none" is read as us-ascii
    assert decode_header_value("=?x-foo?B?VEVTVA=?=") == ("TEST", ["unknown charset 'x-foo'; decoded as us-ascii"])


def test_raw_8bit_headers_are_read_as_utf8_then_cp932() -> None:
    assert decode_header_value("承認".encode()) == ("承認", [])
    assert decode_header_value("承認㈱".encode("cp932")) == ("承認㈱", [])
    # As the stdlib hands them over: undecodable bytes as surrogates.
    assert decode_header_value("承認".encode("cp932").decode("ascii", "surrogateescape")) == ("承認", [])


def test_bare_iso_2022_jp_in_a_raw_header_is_decoded() -> None:
    assert decode_header_value(b"Re: \x1b$B>5G'\x1b(B") == ("Re: 承認", [])


def test_header_decoding_never_raises() -> None:
    rng = random.Random(7)
    for _ in range(50):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        assert isinstance(decode_header_value(b"=?utf-8?B?" + data + b"?= " + data)[0], str)
