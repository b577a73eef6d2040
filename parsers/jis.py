"""ISO-2022-JP and EUC-JP, decoded our way: each JIS X 0208 pair goes through Shift_JIS to ``cp932``.

ISO-2022-JP as sent by Windows and carrier clients carries NEC row 13 (①, ㈱)
and IBM extension characters that Python's strict ``iso2022_jp`` codec refuses,
and some phones switch to half-width katakana with ``ESC ( I``; CP51932 and
eucJP-ms carry the same extensions in EUC-JP. ``cp932`` knows them all, so both
decoders turn what they read into Shift_JIS and let it decode, counting what
could not be read instead of failing. ``parsers.charsets`` decides when to use them.
"""

from __future__ import annotations

import re

__all__ = ["decode_iso2022jp", "decode_eucjp"]

_ISO2022_SEQ = re.compile(rb"\x1b(?:\$[@AB]|\$\([@ABCDOPQ]|\([BJHI]|&@|\.[AF]|N)|[\x0e\x0f]|\x1b")
_NEWLINE = re.compile(rb"[\r\n]")
# Designations that set the mode of the bytes after them.
_MODES: dict[bytes, str] = {
    **dict.fromkeys([b"\x1b(B", b"\x1b(J", b"\x1b(H"], "ascii"),
    b"\x1b(I": "kana",
    **dict.fromkeys([b"\x1b$@", b"\x1b$B", b"\x1b$(B", b"\x1b$(O", b"\x1b$(Q", b"\x1b$(P"], "jis0208"),
    b"\x1b$(D": "jis0212",
    **dict.fromkeys([b"\x1b$A", b"\x1b$(A"], "gb2312"),
    b"\x1b$(C": "ksc5601",
}
# ISO-2022-JP-2's G2 sets, used one character at a time after ESC N.
_G2_SETS: dict[bytes, str] = {b"\x1b.A": "latin-1", b"\x1b.F": "iso8859-7"}


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


class _ShiftJisText:
    """Text gathered as Shift_JIS bytes for ``cp932``, with pieces decoded otherwise in between."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.sjis = bytearray()
        self.bad = 0

    def flush(self) -> None:
        if self.sjis:
            text = self.sjis.decode("cp932", "replace")
            self.bad += text.count("\ufffd")
            self.out.append(text)
            self.sjis.clear()

    def emit(self, text: str) -> None:
        self.flush()
        self.bad += text.count("\ufffd")
        self.out.append(text)

    def bad_byte(self) -> None:
        self.flush()
        self.bad += 1
        self.out.append("\ufffd")

    def text(self) -> str:
        self.flush()
        return "".join(self.out)


class _Iso2022Decoder(_ShiftJisText):
    """Lenient ISO-2022-JP (-1, -2, -3, CP5022x): counts what it could not decode instead of failing."""

    def __init__(self) -> None:
        super().__init__()
        self.emoji = 0
        self.eight_bit = 0
        self.unterminated = 0

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
                self.bad_byte()

    def _double(self, seg: bytes, mode: str) -> None:
        i, n = 0, len(seg)
        while i < n:
            b1 = seg[i]
            if not 0x21 <= b1 <= 0x7E:
                if b1 < 0x21:
                    self.sjis.append(b1)
                else:
                    self.bad_byte()
                i += 1
                continue
            if i + 1 >= n or not 0x21 <= seg[i + 1] <= 0x7E:
                self.bad_byte()
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
                self.emit(bytes((0x8F, b1 | 0x80, b2 | 0x80)).decode("euc_jp", "replace"))
            elif mode == "gb2312":
                self.emit(bytes((b1 | 0x80, b2 | 0x80)).decode("gb18030", "replace"))
            else:
                self.emit(bytes((b1 | 0x80, b2 | 0x80)).decode("cp949", "replace"))

    def decode(self, data: bytes) -> str:
        mode = "ascii"
        shifted_from = "ascii"
        g2 = "latin-1"
        single_shift = False
        pos = 0
        for match in _ISO2022_SEQ.finditer(data):
            seg = data[pos:match.start()]
            if single_shift and seg:
                self.emit(bytes((seg[0] | 0x80,)).decode(g2, "replace"))
                seg, single_shift = seg[1:], False
            self._segment(seg, mode)
            seq = match.group()
            pos = match.end()
            if seq in _MODES:
                mode = _MODES[seq]
            elif seq == b"\x0e":
                shifted_from, mode = mode, "kana"
            elif seq == b"\x0f":
                mode = shifted_from if mode == "kana" else mode
            elif seq in _G2_SETS:
                g2 = _G2_SETS[seq]
            elif seq == b"\x1bN":
                single_shift = True
            elif seq == b"\x1b&@":
                pass  # announces the JIS X 0208-1990 update; the ESC $ B that follows sets the mode
            else:
                self.bad_byte()
        self._segment(data[pos:], mode)
        return self.text()

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


def decode_iso2022jp(data: bytes, label: str) -> tuple[str, list[str]]:
    """Text of ISO-2022-JP bytes (any variant), and defects naming the declared ``label`` for what was off."""
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


def decode_eucjp(data: bytes, label: str) -> tuple[str, list[str]]:
    """Text of EUC-JP bytes, through CP51932 when strict EUC-JP refuses them, and what was off."""
    try:
        return data.decode("euc_jp"), []
    except UnicodeDecodeError:
        pass
    # CP51932 and eucJP-ms carry the NEC and IBM extensions: go through Shift_JIS as for ISO-2022-JP.
    buffer = _ShiftJisText()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            buffer.sjis.append(b)
            i += 1
        elif b == 0x8E and i + 1 < n and 0xA1 <= data[i + 1] <= 0xDF:
            buffer.sjis.append(data[i + 1])
            i += 2
        elif b == 0x8F and i + 2 < n:
            buffer.emit(data[i:i + 3].decode("euc_jp", "replace"))
            i += 3
        elif 0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= data[i + 1] <= 0xFE:
            buffer.sjis += bytes(_jis_to_sjis(b & 0x7F, data[i + 1] & 0x7F))
            i += 2
        else:
            buffer.bad_byte()
            i += 1
    text = buffer.text()
    defects = [f"{label!r} text has characters outside EUC-JP; decoded as CP51932"]
    if buffer.bad:
        defects.append(f"{buffer.bad} undecodable character(s) in {label!r} text replaced")
    return text, defects
