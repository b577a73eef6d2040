"""Properties of bytes-to-text: any bytes under any label give text without an error, and Japanese text encoded
in the charsets partners use comes back as it was written."""

from __future__ import annotations

import codecs

from hypothesis import given
from hypothesis import strategies as st

from fuzzing import FUZZ, JAPANESE, charset_labels, japanese_text
from parsers.charsets import canonical_charset, decode_bytes, guess_decoding
from parsers.jis import decode_eucjp, decode_iso2022jp

# How each Python codec is declared in mail, several spellings each.
LABELS = {
    "utf-8": ["utf-8", "UTF-8", "utf8", '"utf-8"'],
    "iso2022_jp": ["iso-2022-jp", "ISO-2022-JP", "csISO2022JP", "iso-2022-jp-2"],
    "cp932": ["shift_jis", "Shift_JIS", "sjis", "windows-31j", "cp932", "x-sjis"],
    "euc_jp": ["euc-jp", "EUC-JP", "x-euc-jp"],
}


@FUZZ
@given(st.binary(max_size=1000), charset_labels)
def test_any_bytes_under_any_label_decode_without_failing(data: bytes, label: str | None) -> None:
    text, defects = decode_bytes(data, label)
    assert isinstance(text, str)
    assert not any(d.startswith("decoding failed") for d in defects), defects
    assert not data or text or data.isspace() or defects or label is not None


@FUZZ
@given(charset_labels)
def test_any_label_is_a_text_codec_or_none(label: str | None) -> None:
    codec = canonical_charset(label)
    if codec is not None:
        assert codec in ("iso-2022-jp", "euc-jp", "us-ascii") or codecs.lookup(codec)._is_text_encoding


@FUZZ
@given(st.binary(max_size=1000), st.sampled_from([None, "utf-8", "iso-2022-jp", "euc-jp", "cp932", "us-ascii"]))
def test_guessing_any_bytes_says_how_and_whether_every_byte_was_read(data: bytes, exclude: str | None) -> None:
    text, how, clean = guess_decoding(data, exclude)
    assert how and isinstance(text, str)
    if not clean:
        assert "replacement" in how or "escape" in how


@FUZZ
@given(st.binary(max_size=500))
def test_our_japanese_decoders_take_any_bytes(data: bytes) -> None:
    for decode in (decode_iso2022jp, decode_eucjp):
        text, defects = decode(data, "label")
        assert isinstance(text, str) and all(isinstance(d, str) for d in defects)


@FUZZ
@given(japanese_text, st.sampled_from(sorted(LABELS)), st.data())
def test_japanese_text_encoded_in_a_partners_charset_decodes_back(text: str, codec: str, data: st.DataObject) -> None:
    label = data.draw(st.sampled_from(LABELS[codec]))
    assert decode_bytes(text.encode(codec), label) == (text, [])


@FUZZ
@given(japanese_text, st.sampled_from(["utf-8", "iso2022_jp"]))
def test_undeclared_utf8_and_iso_2022_jp_are_recognised(text: str, codec: str) -> None:
    decoded, defects = decode_bytes(text.encode(codec), None)
    assert decoded == text
    assert defects == [] or all(d.startswith("no charset declared") for d in defects)


# Labels that lie about UTF-8: Japanese mail clients and webmail send UTF-8 under all of these.
@FUZZ
@given(st.text(alphabet=JAPANESE, min_size=1, max_size=60),
       st.sampled_from(["us-ascii", "iso-8859-1", "windows-1252", "iso-2022-jp", "shift_jis", "euc-jp", "gb2312"]))
def test_utf8_japanese_under_a_wrong_label_is_read_as_utf8(text: str, label: str) -> None:
    decoded, defects = decode_bytes(text.encode("utf-8"), label)
    assert decoded == text
    assert defects, "a wrong label is worth a word to the operator"


@FUZZ
@given(st.text(alphabet=JAPANESE, min_size=1, max_size=60))
def test_shift_jis_sent_as_iso_2022_jp_is_still_read(text: str) -> None:
    # Some phones label 8-bit Shift_JIS as iso-2022-jp.
    decoded, _ = decode_bytes(text.encode("cp932"), "iso-2022-jp")
    encoded_kana = sum(1 for ch in text if "\u3041" <= ch <= "\u30fa")
    if encoded_kana >= 2:
        assert decoded == text
