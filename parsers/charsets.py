"""Bytes to text for whatever a mail client declared, or failed to declare.

Japanese mail is the hard case. ISO-2022-JP as sent by Windows and carrier
clients carries NEC row 13 (①, ㈱) and IBM extension characters that Python's
strict ``iso2022_jp`` codec refuses, and some phones switch to half-width
katakana with ``ESC ( I``. Our own decoder therefore turns each JIS X 0208
pair into Shift_JIS and lets ``cp932`` (which knows those extensions) decode it.

Labels lie, too: Shift_JIS sent as ``iso-2022-jp``, UTF-8 sent as
``us-ascii``. When the declared charset cannot explain the bytes we fall back
step by step and say what we did in a defect, so a person can later see why a
text looks odd. Nothing here raises on any input.
"""

from __future__ import annotations

import binascii
import codecs
import logging
import re
from collections.abc import Iterator

__all__ = ["decode_bytes", "decode_header_value", "canonical_charset", "b64decode_lenient"]

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
# ISO-2022-JP, our way

_ISO2022_SEQ = re.compile(rb"\x1b(?:\$[@AB]|\$\([@ABCDOPQ]|\([BJHI]|&@|\.[AF]|N)|[\x0e\x0f]|\x1b")
_NEWLINE = re.compile(rb"[\r\n]")


def _jis_to_sjis(j1: int, j2: int) -> tuple[int, int]:
    s1 = ((j1 - 0x21) >> 1) + 0x81
    if s1 > 0x9F:
        s1 += 0x40
    if j1 & 1:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    # Rows CP932 leaves undefined (0x75-0x78, 0x7D-0x7E) carry carrier emoji; move them to
    # the Shift_JIS user-defined area so they come out as private-use characters, not U+FFFD.
    if s1 in (0xEB, 0xEC, 0xEF):
        s1 += 8
    return s1, s2


class _Iso2022Decoder:
    """Lenient ISO-2022-JP (-1, -2, -3, CP5022x): counts what it could not decode instead of failing."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.sjis = bytearray()
        self.bad = 0
        self.emoji = 0
        self.eight_bit = 0
        self.unterminated = 0

    def _flush(self) -> None:
        if self.sjis:
            text = self.sjis.decode("cp932", "replace")
            self.bad += text.count("\ufffd")
            self.out.append(text)
            self.sjis.clear()

    def _emit(self, text: str) -> None:
        self._flush()
        self.bad += text.count("\ufffd")
        self.out.append(text)

    def _ascii(self, seg: bytes) -> None:
        if not seg.isascii():
            # Stray 8-bit bytes: JIS8 half-width katakana or Shift_JIS pasted in; cp932 reads both.
            self.eight_bit += sum(1 for b in seg if b >= 0x80)
        self.sjis += seg

    def _kana(self, seg: bytes) -> None:
        for b in seg:
            if 0x21 <= b <= 0x5F:
                self.sjis.append(b + 0x80)
            elif b < 0x21 or b >= 0xA1:
                self.sjis.append(b)
            else:
                self._bad_byte()

    def _double(self, seg: bytes, mode: str) -> None:
        i, n = 0, len(seg)
        while i < n:
            b1 = seg[i]
            if not 0x21 <= b1 <= 0x7E:
                if b1 < 0x21:
                    self.sjis.append(b1)
                else:
                    self._bad_byte()
                i += 1
                continue
            if i + 1 >= n or not 0x21 <= seg[i + 1] <= 0x7E:
                self._bad_byte()
                i += 1
                continue
            b2 = seg[i + 1]
            i += 2
            if mode == "jis0208":
                s1, s2 = _jis_to_sjis(b1, b2)
                if s1 >= 0xF0:
                    self.emoji += 1
                self.sjis += bytes((s1, s2))
            elif mode == "jis0212":
                self._emit(bytes((0x8F, b1 | 0x80, b2 | 0x80)).decode("euc_jp", "replace"))
            elif mode == "gb2312":
                self._emit(bytes((b1 | 0x80, b2 | 0x80)).decode("gb18030", "replace"))
            else:
                self._emit(bytes((b1 | 0x80, b2 | 0x80)).decode("cp949", "replace"))

    def _bad_byte(self) -> None:
        self._flush()
        self.bad += 1
        self.out.append("\ufffd")

    def decode(self, data: bytes) -> str:
        mode = "ascii"
        shifted_from = "ascii"
        g2 = "latin-1"
        single_shift = False
        pos = 0
        for match in _ISO2022_SEQ.finditer(data):
            seg = data[pos:match.start()]
            if single_shift and seg:
                self._emit(bytes((seg[0] | 0x80,)).decode(g2, "replace"))
                seg, single_shift = seg[1:], False
            self._segment(seg, mode)
            seq = match.group()
            pos = match.end()
            if seq in (b"\x1b(B", b"\x1b(J", b"\x1b(H"):
                mode = "ascii"
            elif seq == b"\x1b(I":
                mode = "kana"
            elif seq in (b"\x1b$@", b"\x1b$B", b"\x1b$(B", b"\x1b$(O", b"\x1b$(Q", b"\x1b$(P"):
                mode = "jis0208"
            elif seq == b"\x1b$(D":
                mode = "jis0212"
            elif seq in (b"\x1b$A", b"\x1b$(A"):
                mode = "gb2312"
            elif seq == b"\x1b$(C":
                mode = "ksc5601"
            elif seq == b"\x0e":
                shifted_from, mode = mode, "kana"
            elif seq == b"\x0f":
                mode = shifted_from if mode == "kana" else mode
            elif seq == b"\x1b.A":
                g2 = "latin-1"
            elif seq == b"\x1b.F":
                g2 = "iso8859-7"
            elif seq == b"\x1bN":
                single_shift = True
            elif seq == b"\x1b&@":
                pass  # announces the JIS X 0208-1990 update; the ESC $ B that follows sets the mode
            else:
                self._bad_byte()
        self._segment(data[pos:], mode)
        self._flush()
        return "".join(self.out)

    def _segment(self, seg: bytes, mode: str) -> None:
        if not seg:
            return
        if mode == "ascii":
            self._ascii(seg)
            return
        # A line must end in ASCII; senders that forget ESC ( B still mean a new line there.
        newline = _NEWLINE.search(seg)
        if newline is not None:
            self.unterminated += 1
            head, tail = seg[:newline.start()], seg[newline.start():]
        else:
            head, tail = seg, b""
        if mode == "kana":
            self._kana(head)
        else:
            self._double(head, mode)
        if tail:
            self._ascii(tail)


def _decode_iso2022jp(data: bytes, label: str) -> tuple[str, list[str]]:
    decoder = _Iso2022Decoder()
    text = decoder.decode(data)
    defects = []
    if decoder.bad:
        defects.append(f"{decoder.bad} undecodable character(s) in {label!r} text replaced")
    if decoder.emoji:
        defects.append(f"{decoder.emoji} carrier emoji in {label!r} text kept as private-use characters")
    if decoder.eight_bit:
        defects.append(f"{decoder.eight_bit} 8-bit byte(s) in {label!r} text read as Shift_JIS")
    if decoder.unterminated:
        defects.append(f"{label!r} text has line(s) that do not return to ASCII")
    return text, defects


def _decode_eucjp(data: bytes, label: str) -> tuple[str, list[str]]:
    try:
        return data.decode("euc_jp"), []
    except UnicodeDecodeError:
        pass
    # CP51932 and eucJP-ms carry the NEC and IBM extensions: go through Shift_JIS as for ISO-2022-JP.
    sjis = bytearray()
    pieces: list[str] = []
    bad = 0

    def flush() -> None:
        nonlocal bad
        text = sjis.decode("cp932", "replace")
        bad += text.count("\ufffd")
        pieces.append(text)
        sjis.clear()

    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            sjis.append(b)
            i += 1
        elif b == 0x8E and i + 1 < n and 0xA1 <= data[i + 1] <= 0xDF:
            sjis.append(data[i + 1])
            i += 2
        elif b == 0x8F and i + 2 < n:
            flush()
            text = data[i:i + 3].decode("euc_jp", "replace")
            bad += text.count("\ufffd")
            pieces.append(text)
            i += 3
        elif 0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= data[i + 1] <= 0xFE:
            sjis += bytes(_jis_to_sjis(b & 0x7F, data[i + 1] & 0x7F))
            i += 2
        else:
            flush()
            bad += 1
            pieces.append("\ufffd")
            i += 1
    flush()
    defects = [f"{label!r} text has characters outside EUC-JP; decoded as CP51932"]
    if bad:
        defects.append(f"{bad} undecodable character(s) in {label!r} text replaced")
    return "".join(pieces), defects


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


def _guess(data: bytes, exclude: str | None = None) -> tuple[str, str, bool]:
    """(text, how it was decoded, whether the decoding accounts for every byte)."""
    if data.isascii():
        if _JIS_ESCAPES.search(data):
            text, defects = _decode_iso2022jp(data, ISO2022JP)
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


# ---------------------------------------------------------------------------------------------
# Public

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
        text, how, _ = _guess(data)
        return text, ([] if how == "us-ascii" else [f"no charset declared; decoded as {how}"])
    codec = canonical_charset(label)
    if codec is None:
        text, how, _ = _guess(data)
        return text, [f"unknown charset {label!r}; decoded as {how}"]
    if codec == ASCII:
        if data.isascii() and not _JIS_ESCAPES.search(data):
            return data.decode("ascii"), []
        text, how, _ = _guess(data)
        return text, [f"charset {label!r} does not fit the bytes; decoded as {how}"]
    if codec == ISO2022JP:
        if not data.isascii() and b"\x1b" not in data:
            text, how, _ = _guess(data, exclude=ISO2022JP)
            return text, [f"charset {label!r} declared but the bytes are 8-bit; decoded as {how}"]
        return _decode_iso2022jp(data, label)
    if codec in _SINGLE_BYTE_OR_CJK and _is_utf8_text(data):
        # Valid multi-byte UTF-8 is almost never an accident in these charsets: the label is wrong.
        return data.decode("utf-8"), [f"charset {label!r} declared but the bytes are utf-8; decoded as utf-8"]
    if codec == EUCJP:
        text, defects = _decode_eucjp(data, label)
        if not any("undecodable" in d for d in defects):
            return text, defects
        guessed, how, clean = _guess(data, exclude=EUCJP)
        if clean:
            return guessed, [f"bytes are not valid {label!r}; decoded as {how}"]
        return text, defects
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
        text, how, _ = _guess(data)
        return text, [f"unknown charset {label!r}; decoded as {how}"]
    guessed, how, clean = _guess(data, exclude=codec)
    if clean:
        return guessed, [f"bytes are not valid {label!r}; decoded as {how}"]
    if codec == "cp1252":
        return data.decode("latin-1"), []
    text = data.decode(codec, "replace")
    return text, [f"{text.count(chr(0xFFFD))} invalid byte sequence(s) for {label!r} replaced"]


# ---------------------------------------------------------------------------------------------
# Headers

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def b64decode_lenient(data: bytes) -> tuple[bytes, bool]:
    """Base64 that survives junk characters, missing padding and concatenated padded chunks."""
    cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", data)
    damaged = len(cleaned) != len(re.sub(rb"\s", b"", data))
    out = bytearray()
    for chunk in re.findall(rb"[A-Za-z0-9+/]+=*", cleaned):
        body = chunk.rstrip(b"=")
        if len(body) % 4 == 1:
            body = body[:-1]
            damaged = True
        body += b"=" * (-len(body) % 4)
        try:
            out += binascii.a2b_base64(body)
        except (binascii.Error, ValueError):
            damaged = True
    return bytes(out), damaged


def _q_decode(text: bytes) -> bytes:
    return _QP_HEX.sub(lambda m: bytes((int(m.group(1), 16),)), text.replace(b"_", b" "))


def _to_bytes(s: str) -> bytes:
    # Headers parsed from bytes keep undecodable bytes as lone surrogates; give them back.
    return s.encode("utf-8", "surrogateescape")


def _decode_raw_header(data: bytes) -> tuple[str, list[str]]:
    if data.isascii():
        if b"\x1b" in data:
            return _decode_iso2022jp(data, "raw header")
        return data.decode("ascii"), []
    for codec in ("utf-8", "cp932"):
        try:
            return data.decode(codec), []
        except UnicodeDecodeError:
            continue
    text, how, _ = _guess(data, exclude="utf-8")
    return text, [f"8-bit header decoded as {how}"]


def _tokens(value: str) -> Iterator[tuple[str, str | None, bytes]]:
    """(text, None, b"") for literal text, ("", charset, bytes) for an encoded word."""
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        if match.start() > pos:
            yield value[pos:match.start()], None, b""
        charset, encoding, payload = match.groups()
        raw = _to_bytes(payload)
        if encoding in "bB":
            decoded, _damaged = b64decode_lenient(raw)
        else:
            decoded = _q_decode(raw)
        yield "", charset.split("*", 1)[0], decoded
        pos = match.end()
    if pos < len(value):
        yield value[pos:], None, b""


def decode_header_value(value: str | bytes) -> tuple[str, list[str]]:
    """A header's text: RFC 2047 encoded words, raw 8-bit bytes and bare ISO-2022-JP all read."""
    try:
        return _decode_header_value(value)
    except Exception as exc:  # never raise
        log.exception("decode_header_value failed")
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        return _CONTROL.sub("", text.encode("utf-8", "replace").decode("utf-8")), [f"header decoding failed ({exc!r})"]


def _decode_header_value(value: str | bytes) -> tuple[str, list[str]]:
    text = value.decode("ascii", "surrogateescape") if isinstance(value, (bytes, bytearray)) else str(value)
    text = _FOLD.sub("", text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    defects: list[str] = []
    parts: list[str] = []
    # Adjacent encoded words in one charset are joined as bytes first: clients cut words mid-character.
    pending_charset: str | None = None
    pending = bytearray()
    between = ""

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset is not None:
            decoded, problems = decode_bytes(bytes(pending), pending_charset)
            parts.append(decoded)
            defects.extend(problems)
        pending_charset = None
        pending.clear()

    for literal, charset, raw in _tokens(text):
        if charset is None:
            if pending_charset is not None and not literal.strip():
                between = literal  # whitespace between encoded words vanishes (RFC 2047 6.2)
                continue
            flush()
            decoded, problems = _decode_raw_header(_to_bytes(between + literal))
            between = ""
            parts.append(decoded)
            defects.extend(problems)
            continue
        between = ""
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            flush()
        pending_charset = charset if pending_charset is None else pending_charset
        pending += raw
    flush()
    if between:
        parts.append(between)
    result = _CONTROL.sub("", "".join(parts).replace("\t", " "))
    return result, list(dict.fromkeys(defects))
