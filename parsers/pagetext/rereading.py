"""Words Tesseract reads again: a few both ways up to tell which way up the page is, some in English,
the unsure and the half-width ones enlarged and stretched.

Orientation: the three longest words are read both ways up in one small process (~0.25 s); the page is
turned by 180° if they read clearly better turned (by 0.15, and at least 0.6). Tesseract reads
upside-down Japanese as nonsense at confidence ~0.2-0.3, upright at ~0.9; a page it reads badly both
ways (English) stays as it is.

Words read without Japanese (amounts, phone numbers, units) or as one character are read again with the
English model, its reading kept when more confident. Japanese words read unsure (under 0.8 a character),
and kana narrower than full-width characters (half-width katakana, ﾄﾏﾄ, which the Japanese model cannot
read as they are), are read again from the gray picture three ways: enlarged twice, with a wider margin,
and drawn 1.5 times as wide. The reading with no Latin letter inside kana, then the surest, is the
word's text and the others are kept as its ``alternatives``, for the product master to choose among.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from parsers.pagetext.picture import Gray, Mask
from parsers.pagetext.segments import drawn
from parsers.pagetext.tesseract import TesseractLine, quality, read_lines
from parsers.pagetext.words import KANA, NUMBER, Run, is_cjk, is_kana

log = logging.getLogger(__name__)

ORIENTATION_SAMPLE = 3  # words read both ways up to tell which way up the page is
ENLARGE = 2  # unsure Japanese words are read again from the gray picture this many times larger
UNSURE_QUALITY = 0.8  # below this mean confidence per character a Japanese word is unsure
ENLARGE_MARGIN = 20  # pixels of white added around a word for one of its re-readings
HALF_STRETCH = 1.5  # and how much wider a word with kana is drawn for another (ﾚﾓﾝ is read レモン, not ルモッ)


def upside_down(runs: Sequence[Run], crops: Sequence[Mask], dpi: float, command: str, number: int) -> bool:
    """Whether the page reads better turned: its longest words (lines of text), read both ways up."""
    sample = sorted(range(len(runs)), key=lambda i: runs[i].x1 - runs[i].x0, reverse=True)[:ORIENTATION_SAMPLE]
    if not sample:
        return False
    # a dozen characters of each tell as well as a whole line, and nonsense is slow to read
    probes = [crops[i][:, :crops[i].shape[0] * 12] for i in sample]
    read = read_lines(probes + [probe[::-1, ::-1] for probe in probes], dpi, command)
    upright, turned = quality(read[:len(sample)]), quality(read[len(sample):])
    log.debug("page %d: its longest words read at %.2f as they are, %.2f turned", number, upright, turned)
    # turned only when turned reads like text: a page neither way up reads well (English, a photo) stays
    return turned >= 0.6 and turned > upright + 0.15


def reread_latin(crops: Sequence[Mask], lines: list[TesseractLine], dpi: float, command: str) -> None:
    """Words read without Japanese (amounts, phone numbers, units), or as one character (a quantity in
    its cell, 2 read as る), read again in English, and kept if surer.

    The Japanese model reads most thousands commas as full stops ("3.200"); the English one does not.
    Reading every word with both (``jpn+eng``) would double Tesseract's time.
    """
    picked = [i for i, line in enumerate(lines)
              if line.words and (not any(is_cjk(ch) for ch in line.text(1.0)) or len(line.text(1.0)) == 1)]
    for i, line in zip(picked, read_lines([crops[i] for i in picked], dpi, command, languages="eng"), strict=True):
        if not line.words or quality([line]) <= quality([lines[i]]):
            continue
        japanese = lines[i].text(1.0)
        if any(is_cjk(ch) for ch in japanese) and not NUMBER.fullmatch(line.text(1.0)):
            continue  # a kanji or kana alone (箱, 玉) stays Japanese unless English reads a number there
        if len(japanese) == 1 and is_cjk(japanese) and not is_kana(japanese) and japanese not in "一二三":
            continue  # English reads a number into anything (袋 as 8, ℓ as 2); Japanese reads digits as kana
        lines[i] = line


# a Latin letter or a stroke between two kana: what the model makes of a half-width katakana (ﾐﾆﾄﾏﾄ read ミニトYト)
INSIDE_KANA = re.compile(rf"(?<={KANA})\s?[A-Za-z\\/|\[\]{{}}^_]+\s?(?={KANA})")


def plausible(line: TesseractLine) -> tuple[bool, float]:
    """How to rank readings of one word: a reading with no Latin or stroke inside kana first, then the surer."""
    return not INSIDE_KANA.search(line.text(1.0)), quality([line])


def half_width(run: Run, text: str) -> bool:
    """Kana drawn narrower than three quarters of their height: half-width katakana (ﾐﾆﾄﾏﾄ read ミニトャマト)."""
    return any(is_kana(ch) for ch in text) and (run.x1 - run.x0) / run.em / len(text) < 0.75


def reread_enlarged(grays: Sequence[Gray], runs: Sequence[Run], lines: list[TesseractLine], dpi: float,
                    command: str) -> dict[int, list[TesseractLine]]:
    """Japanese words read unsure (mean confidence under ``UNSURE_QUALITY``), and words of kana as narrow as
    half-width katakana however sure, read again from their gray crops (``gray_crop``, upright): enlarged
    ``ENLARGE`` times as cut out, and with a wider white margin, and (words with kana) ``HALF_STRETCH`` times
    as wide, not taller (of the ways tried, the one that read most half-width katakana right). The surest
    reading replaces the first when surer; every other reading is returned, by word, for a reader that knows
    what the word may say.

    At fax resolution a kanji is 20-30 pixels high and its inner strokes touch: 生姜 is read 生半, 豆腐 豆殴,
    ﾌﾞﾛｯｺﾘ フーロッコリ. Enlarged they are often read right, but which of the ways gets it right, and how
    sure Tesseract is of it, is nearly chance (生姜 read right at 0.41, wrong as 生 0.93 半 0.54): the
    confidences alone cannot pick, a product master can.
    """
    picked = [i for i, line in enumerate(lines)
              if (text := line.text(1.0)) and any(is_cjk(ch) for ch in text)
              and (quality([line]) < UNSURE_QUALITY or half_width(runs[i], text))]
    others: dict[int, list[TesseractLine]] = {i: [] for i in picked}
    for wide, high, margin in ((ENLARGE, ENLARGE, 0), (ENLARGE, ENLARGE, ENLARGE_MARGIN), (HALF_STRETCH, 1, 0)):
        chosen = [i for i in picked if wide == high or any(is_kana(ch) for ch in lines[i].text(1.0))]
        scaled = [drawn(grays[i], wide, high, margin) for i in chosen]
        for i, line in zip(chosen, read_lines(scaled, dpi * high, command), strict=True):
            if line.words:
                others[i].append(TesseractLine(tuple((text, int(left / wide) - margin, int(right / wide) - margin,
                                                      conf) for text, left, right, conf in line.words)))
    for i, readings in others.items():
        best = max(readings, key=plausible, default=None)
        if best is not None and plausible(best) > plausible(lines[i]):
            readings[readings.index(best)] = lines[i]
            lines[i] = best
        else:
            readings.append(lines[i])
    return others
