"""Every word read again by a second reader of another family, and the two readings weighed as one.

The second reader is ``parsers.recognizer`` (PP-OCRv5's recognizer); narrow kana are also drawn 1.5 and
2 times as wide for it. Alike, the word is as sure as the surer reader; unlike, the surer reading a
Japanese sheet can carry (no simplified Chinese kanji, no Latin inside kana) is the text, as sure as it
was read less the other's confidence as far as the other differs, and the other reading is an
alternative; where in the word they agree they are as sure as the surer (``token_confs``: 2束 against
2東, the 2 is sure). On the fax orders' sheets this turned handwritten 8 read る, 13 read 73 and 鶏卵
read 鶏更 into the right text (doubted where Tesseract was sure of something else), for ~0.5 s a page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from parsers.pagetext.picture import Gray
from parsers.pagetext.rereading import INSIDE_KANA, half_width
from parsers.pagetext.segments import drawn
from parsers.pagetext.tesseract import TesseractLine, tidy, voiced
from parsers.pagetext.words import Run, WordReading, is_cjk
from parsers.recognizer import read_words

SECOND_STRETCH = (1.5, 2.0)  # how much wider narrow kana are drawn for the second reader


def _japanese(text: str) -> bool:
    """Whether every ideograph is one a Japanese sheet can carry (in Shift_JIS as Windows has it): the second
    reader's model writes some kanji in their simplified Chinese form (単 as 单), which none is."""
    try:
        "".join(ch for ch in text if is_cjk(ch)).encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


# what two readers write differently for the same mark: ¥ (a backslash to Tesseract), a stop or a colon, a
# small kana (ゅ read ゆ)
_SMALL_KANA = "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
_LARGE_KANA = "あいうえおつやゆよわアイウエオツヤユヨワカケ"
_FOLD = str.maketrans({"\\": "¥", ",": ".", "、": ".", "。": ".", "·": ".", "・": ".", ":": ".", ";": ".",
                       **dict(zip(_SMALL_KANA, _LARGE_KANA, strict=True))})


def _folded(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold().translate(_FOLD)


def read_again(grays: Sequence[Gray], runs: Sequence[Run],
               lines: Sequence[TesseractLine]) -> list[list[tuple[str, float]]]:
    """Every word read by the second reader as cut out; a word of kana as narrow as half-width katakana by
    either reader's reading, read again drawn ``SECOND_STRETCH`` times as wide (ﾚﾓﾝ: Vt\\ as it is, レモン twice
    as wide). Readings by word, as read."""
    readings = [[reading] for reading in read_words(grays)]
    narrow = [i for i, (run, line) in enumerate(zip(runs, lines, strict=True))
              if any(half_width(run, text) for text in (line.text(1.0), readings[i][0][0]))]
    for wide in SECOND_STRETCH:
        for i, reading in zip(narrow, read_words([drawn(grays[i], wide) for i in narrow]), strict=True):
            readings[i].append(reading)
    return readings


def weigh(first: WordReading, seconds: Sequence[tuple[str, float]]) -> WordReading:
    """Tesseract's reading of a word and the second reader's (``parsers.recognizer``), made one.

    Alike (NFKC, without spaces, in either case, a stop for a colon, ¥ for a backslash): Tesseract's text
    (its spaces are the layout's), as sure as the surer of the two; readers of two families rarely read the
    same ink the same wrong way. Unlike: the surer, among readings a Japanese sheet can carry with no Latin
    inside kana, is the text; it is as sure as it was read, less the other's confidence as far as the other
    differs (8 read at 1.00 where Tesseract read る at 0.94: 0.06, a field to check; 2.5 where Tesseract read
    2.5- at 0.6: 0.81). The other reading becomes an alternative. Where in the word the two agree, they
    agree (2束 against 2東: the 2 is as sure as the surer reader, the 束 is not), as ``token_confs`` say.
    """
    text, conf, alternatives, token_ends = first
    readings = [(_in_japanese(tidy(voiced(reading)), text), sure) for reading, sure in seconds]
    readings = [(reading, sure) for reading, sure in readings if reading]
    if not readings:
        return first
    other, other_conf = max(readings, key=lambda reading: _rank(*reading))
    alternatives = tuple(sorted({*alternatives, *(reading for reading, _ in readings)} - {text, other}))
    distance = Levenshtein.normalized_distance(_folded(text), _folded(other))
    if distance == 0:
        return (text, max(conf, other_conf), alternatives,
                tuple((end, max(token_conf, other_conf)) for end, token_conf in token_ends))
    own_ends: tuple[tuple[int, float], ...] = ()  # where the second reader's tokens end is not known
    if not text or _rank(other, other_conf) > _rank(text, conf):
        won, won_conf, lost, lost_conf = other, other_conf, text, conf
    else:
        won, won_conf, lost, lost_conf, own_ends = text, conf, other, other_conf, token_ends
    kept = 1 - lost_conf * distance
    confs = [max(own, lost_conf) if alike else own * kept
             for own, alike in zip(_char_confs(won, won_conf, own_ends), _read_alike(won, lost), strict=True)]
    ends = [(end, round(confs[end - 1], 3)) for end in range(1, len(won) + 1)
            if end == len(won) or confs[end] != confs[end - 1]]
    return (won, won_conf * kept, tuple(sorted({*alternatives, text, other} - {won, ""})),
            tuple(ends) if len(ends) > 1 else ())


def _char_confs(text: str, conf: float, token_ends: Sequence[tuple[int, float]]) -> list[float]:
    """Each character's confidence: its token's, or the word's."""
    if not token_ends:
        return [conf] * len(text)
    return [next((token_conf for end, token_conf in token_ends if end > i), conf) for i in range(len(text))]


def _read_alike(text: str, other: str) -> list[bool]:
    """Whether each character of ``text`` is read alike (``_folded``) in ``other``, in its place; a
    character beside one that ``other`` has more is not (1 against 18: the 1 may be the start of 18)."""
    mine = [(i, folded) for i, ch in enumerate(text) if (folded := _folded(ch))]
    theirs = [folded for ch in other if (folded := _folded(ch))]
    alike = [True] * len(text)  # a space is the layout's, not a reading
    for op in Levenshtein.opcodes([folded for _, folded in mine], theirs):
        if op.tag == "equal":
            continue
        unlike = (op.src_start - 1, op.src_start) if op.tag == "insert" else range(op.src_start, op.src_end)
        for k in unlike:
            if 0 <= k < len(mine):
                alike[mine[k][0]] = False
    return alike


def _in_japanese(reading: str, japanese: str) -> str:
    """The second reader's ``reading`` with each kanji in its simplified Chinese form (单) written as Tesseract
    read it in the same place (単), when the two are as long."""
    if _japanese(reading) or len(reading) != len(japanese):
        return reading
    return "".join(theirs if is_cjk(ours) and not _japanese(ours) else ours
                   for ours, theirs in zip(reading, japanese, strict=True))


def _rank(reading: str, sure: float) -> tuple[bool, bool, float]:
    """How to rank readings of one word from two readers: one a Japanese sheet can carry, with no Latin inside
    kana, first; then the surer."""
    return _japanese(unicodedata.normalize("NFKC", reading)), not INSIDE_KANA.search(reading), sure
