"""Bytes to text for whatever a mail client declared, or failed to declare.

Labels lie: Shift_JIS sent as ``iso-2022-jp``, UTF-8 sent as ``us-ascii``,
Japanese sent as ``iso-8859-1``. A declared label is first made a codec
(``canonical_charset``); when that codec cannot explain the bytes we fall back
step by step (``guess_decoding``) and say what we did in a defect, so a person
can later see why a text looks odd. The Japanese codecs of our own, which
repair what Python's strict ones refuse, are in ``parsers.jis``; headers
(RFC 2047 encoded words) are read in ``parsers.mime.encoded_words``. Nothing
here raises on any input.
"""

from __future__ import annotations

import codecs
import logging
import re

from parsers.jis import decode_eucjp, decode_iso2022jp

__all__ = ["decode_bytes", "canonical_charset", "guess_decoding"]

log = logging.getLogger(__name__)

# Markers for the decoders of our own; everything else is a Python codec name.
ISO2022JP = "iso-2022-jp"
EUCJP = "euc-jp"
ASCII = "us-ascii"

_ALIASES: dict[str, str] = {
    # Shift_JIS as actually written by Windows, Macs and phones is CP932.
    **dict.fromkeys(["shiftjis", "sjis", "xsjis", "windows31j", "mskanji", "csshiftjis", "cp932", "ms932",
                     "xmscp932", "ibm943", "shiftjisx0213", "shiftjis2004", "xsjisdocomo", "xsjiskddi",
                     "xsjissoftbank", "sjisopen", "sjiswin"], "cp932"),
    **dict.fromkeys(["iso2022jp", "iso2022jpext", "iso2022jp1", "iso2022jp2", "iso2022jp3", "iso2022jp2004",
                     "csiso2022jp", "csiso2022jp2", "jis", "xiso2022jp", "cp50220", "cp50221", "cp50222",
                     "iso2022jpkddi", "iso2022jpsoftbank", "iso2022jpdocomo"], ISO2022JP),
    **dict.fromkeys(["eucjp", "xeucjp", "cseucpkdfmtjapanese", "cp51932", "ujis", "eucjpms", "eucjis2004",
                     "eucjisx0213"], EUCJP),
    **dict.fromkeys(["ksc56011987", "ksc5601", "ksc56011989", "eucke", "euckr", "korean", "windows949", "cp949",
                     "ksx1001", "csksc56011987", "uhc"], "cp949"),
    **dict.fromkeys(["gb2312", "gbk", "gb231280", "xgbk", "cp936", "chinese", "euccn", "csgb2312", "gb18030",
                     "windows936", "hz"], "gb18030"),
    **dict.fromkeys(["big5", "big5hkscs", "cnbig5", "xxbig5", "csbig5", "cp950", "windows950"], "big5hkscs"),
    **dict.fromkeys(["utf8", "xutf8", "unicode11utf8", "utf8mb4", "unicode20utf8"], "utf-8"),
    **dict.fromkeys(["usascii", "ascii", "ansix341968", "iso646us", "us", "csascii", "ibm367", "cp367",
                     "iso646irv1991", "7bit", "8bit", "none", "default", "unknown8bit", "xunknown",
                     "unknown"], ASCII),
    # Browsers read latin-1 labels as windows-1252; mail clients write them the same way.
    **dict.fromkeys(["iso88591", "latin1", "l1", "isolatin1", "csisolatin1", "cp819", "ibm819", "windows1252",
                     "cp1252", "xcp1252"], "cp1252"),
    "utf7": "utf-7",
    "utf16": "utf-16", "utf16le": "utf-16-le", "utf16be": "utf-16-be",
    "utf32": "utf-32", "utf32le": "utf-32-le", "utf32be": "utf-32-be",
    "tis620": "cp874", "iso885911": "cp874", "windows874": "cp874",
    "iso88598i": "iso8859-8", "koi8u": "koi8-u", "koi8r": "koi8-r",
}
# Python codecs that are not charsets a mail could be written in.
_NOT_CHARSETS = {"rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "unicode_escape", "raw_unicode_escape",
                 "undefined", "idna", "punycode", "mbcs", "oem", "palmos", "string_escape"}
_SINGLE_BYTE_OR_CJK = {"cp1252", "latin-1", "cp932", EUCJP, "gb18030", "cp949", "big5hkscs", ASCII}
_CJK_CODECS = {"cp932", EUCJP, "gb18030", "cp949", "big5hkscs"}

_JIS_ESCAPES = re.compile(rb"\x1b(?:\$[@B]|\(I|\$\(D)")
_DETECT_LIMIT = 64 * 1024


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _clean_label(declared: str | None) -> str | None:
    if declared is None:
        return None
    label = declared.strip().strip("\"'").strip()
    # "charset=utf-8;" and RFC 2231 language suffixes ("utf-8*ja") are seen in the wild.
    label = re.sub(r"^charset\s*=\s*", "", label, flags=re.I)
    label = label.split("*", 1)[0].split(";", 1)[0].strip().strip("\"'").strip()
    return label or None


def canonical_charset(declared: str | None) -> str | None:
    """The codec for a declared charset label, or None when we know no such charset."""
    label = _clean_label(declared)
    if label is None:
        return None
    found = _ALIASES.get(_key(label))
    if found:
        return found
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


# ---------------------------------------------------------------------------------------------
# Guessing

def _japanese_score(text: str) -> float:
    """Share of the non-ASCII letters that are Japanese script; 0 without any kana.

    Symbols (①, ㈱, full-width punctuation) count for nothing either way; half-width
    katakana count against, because that is what Shift_JIS read as EUC-JP looks like.
    """
    kana = cjk = letters = 0
    for ch in text:
        code = ord(ch)
        if code < 0x80 or 0x2000 <= code <= 0x2BFF or 0x3200 <= code <= 0x33FF or 0xFF01 <= code <= 0xFF5E:
            continue
        letters += 1
        if 0x3040 <= code <= 0x30FF:
            kana += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F:
            cjk += 1
    if not letters or not kana:
        return 0.0
    return (kana + cjk) / letters


def _japanese(data: bytes, exclude: str | None = None, min_score: float = 0.8,
              min_kana: int = 1) -> tuple[str, str] | None:
    """(text, how) when the bytes read as Japanese in CP932 or EUC-JP, else None."""
    best: tuple[float, str, str] | None = None
    for codec in ("cp932", "euc_jp"):
        if codec == exclude or (codec == "euc_jp" and exclude == EUCJP):
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
        score = _japanese_score(text)
        if kana >= min_kana and score >= min_score and (best is None or score > best[0]):
            best = (score, codec, text)
    return (best[2], f"{best[1]} (looks Japanese)") if best is not None else None


def guess_decoding(data: bytes, exclude: str | None = None) -> tuple[str, str, bool]:
    """(text, how it was decoded, whether the decoding accounts for every byte)."""
    if data.isascii():
        if _JIS_ESCAPES.search(data):
            text, defects = decode_iso2022jp(data, ISO2022JP)
            return text, "iso-2022-jp (escape sequences found)", not defects
        return data.decode("ascii"), "us-ascii", True
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16 (byte order mark)", True
        except UnicodeDecodeError:
            pass
    if exclude != "utf-8":
        try:
            return data.decode("utf-8-sig"), "utf-8", True
        except UnicodeDecodeError:
            pass
    japanese = _japanese(data, exclude=exclude)
    if japanese is not None:
        return japanese[0], japanese[1], True
    detected = _detect(data)
    if detected is not None and detected != exclude:
        try:
            return data.decode(detected), f"{detected} (detected)", True
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("utf-8", "replace"), "utf-8 with replacement characters", False


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(data[:_DETECT_LIMIT]).best()
    except Exception:  # a detector bug must not cost us the mail
        log.exception("charset detection failed")
        return None
    if match is None:
        return None
    return canonical_charset(match.encoding) or match.encoding


def _is_utf8_text(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _label_fits_better(data: bytes, codec: str) -> bool:
    """Whether bytes that are valid UTF-8 are still better read in the declared CJK codec.

    A short CJK text can be valid UTF-8 by chance (EUC-JP 認 is the bytes of ǧ), but only as two-byte
    sequences (Latin, Greek, Cyrillic): real UTF-8 Japanese has three-byte ones. When the declared
    codec reads the same bytes as nothing but CJK, kana and full-width forms, the label is right.
    """
    if codec not in _CJK_CODECS or any(ord(ch) >= 0x800 for ch in data.decode("utf-8")):
        return False
    try:
        declared = data.decode("euc_jp" if codec == EUCJP else codec)
    except UnicodeDecodeError:
        return False
    return all(ord(ch) < 0x80 or 0x3000 <= ord(ch) <= 0x9FFF or 0xFF01 <= ord(ch) <= 0xFF5E for ch in declared)


# ---------------------------------------------------------------------------------------------
# Decoding

def decode_bytes(data: bytes, declared: str | None) -> tuple[str, list[str]]:
    """Text for ``data`` written in the ``declared`` charset, and what went wrong on the way."""
    try:
        return _decode_bytes(bytes(data), declared)
    except Exception as exc:  # never raise: the mail must still be taken in
        log.exception("decode_bytes failed for charset %r", declared)
        return bytes(data).decode("utf-8", "replace"), [f"decoding failed ({exc!r}); decoded as utf-8 with replacement"]


def _decode_bytes(data: bytes, declared: str | None) -> tuple[str, list[str]]:
    if not data:
        return "", []
    label = _clean_label(declared)
    if label is None:
        text, how, _ = guess_decoding(data)
        return text, ([] if how == "us-ascii" else [f"no charset declared; decoded as {how}"])
    codec = canonical_charset(label)
    if codec is None:
        return _guessed(data, f"unknown charset {label!r}")
    if codec == ASCII:
        if data.isascii() and not _JIS_ESCAPES.search(data):
            return data.decode("ascii"), []
        return _guessed(data, f"charset {label!r} does not fit the bytes")
    if codec == ISO2022JP:
        if not data.isascii() and b"\x1b" not in data:
            return _guessed(data, f"charset {label!r} declared but the bytes are 8-bit", exclude=ISO2022JP)
        return decode_iso2022jp(data, label)
    if codec in _SINGLE_BYTE_OR_CJK and _is_utf8_text(data) and not _label_fits_better(data, codec):
        # Valid multi-byte UTF-8 is almost never an accident in these charsets: the label is wrong.
        return data.decode("utf-8"), [f"charset {label!r} declared but the bytes are utf-8; decoded as utf-8"]
    if codec == EUCJP:
        text, defects = decode_eucjp(data, label)
        if not any("undecodable" in d for d in defects):
            return text, defects
        return _clean_guess(data, label, EUCJP) or (text, defects)
    if codec == "cp1252":
        # Latin-1 decodes any bytes, so a Japanese text sent with a Western label would pass as
        # mojibake; real Western text never reads as kana-rich Shift_JIS or EUC-JP.
        japanese = _japanese(data, min_score=0.9, min_kana=2)
        if japanese is not None:
            return japanese[0], [f"charset {label!r} declared but the bytes are Japanese; decoded as {japanese[1]}"]
    try:
        return data.decode(codec), []
    except UnicodeDecodeError:
        pass
    except LookupError:
        return _guessed(data, f"unknown charset {label!r}")
    guess = _clean_guess(data, label, codec)
    if guess is not None:
        return guess
    if codec == "cp1252":
        return data.decode("latin-1"), []
    text = data.decode(codec, "replace")
    return text, [f"{text.count(chr(0xFFFD))} invalid byte sequence(s) for {label!r} replaced"]


def _guessed(data: bytes, why: str, exclude: str | None = None) -> tuple[str, list[str]]:
    """The best guess at the text, with a defect saying why it had to be guessed and how it was decoded."""
    text, how, _ = guess_decoding(data, exclude=exclude)
    return text, [f"{why}; decoded as {how}"]


def _clean_guess(data: bytes, label: str, exclude: str) -> tuple[str, list[str]] | None:
    """Another decoding that accounts for every byte the declared one could not, or None."""
    guessed, how, clean = guess_decoding(data, exclude=exclude)
    return (guessed, [f"bytes are not valid {label!r}; decoded as {how}"]) if clean else None
