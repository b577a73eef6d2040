"""A page picture read by OCR: the steps in order, each in its module.

1. ``picture``: square gray pixels, the ink without fax dust, the page turned upright (a quarter if
   it came sideways) and straightened.
2. ``rules``: the table ruling found, and its ink taken out before reading.
3. ``segments``: the layout is ours, not Tesseract's: runs of ink grouped into words, each word's
   own ink cut out.
4. ``rereading``: which way up (the longest words read both ways up; turned 180° if they read
   clearly better so).
5. ``tesseract``: every word read as one line, then (``rereading``) some again, in English or enlarged.
6. ``agreement``: every word read again by the second reader, the two readings weighed.
7. Here: a blob this small (``BLOT_MM``) read unsure is a toner spot and dropped; the words put back
   on the upright page (``words.page_words``).

Measured (this machine, 2 cores; five faxes of a realistic order sheet: fine, normal
with noise, skewed 2°, upside down, normal and noisy; 52 words each; a word counts
when its text, NFKC and without whitespace, is read exactly within 3 mm of its place):

    Tesseract's own layout, the whole page, jpn:  psm 3 158/260   psm 4 154   psm 6 147   psm 11 138
                                        jpn+eng:  psm 3 168/260, at twice Tesseract's time
        (it drops whole lines where blocks are staggered, psm 11 drops lone digits, and its
        word boxes for Japanese run over the next words: 「有限」's box spans four characters)
    our layout, each word cut out, jpn:           psm 7 211/260   psm 8 200   psm 13 200
        characters wrong 7 % (psm 7), 9 % (8, 13); junk ~1.5 characters a page
        without the English re-read thousands commas come as full stops (181/260 at an
        earlier stage); jpn+eng for every word: 208/260, 9 % wrong, +35 % time
    orientation: OSD (``--psm 0``) right on 4/4 but ~1.1-1.2 s a page, even at 100 dpi;
        the probe ~0.25 s, longest words 0.87-0.95 upright vs 0.20-0.26 turned
    skew: the middles of the blobs within 0.05° (0.5° off on a sparse page from every
        pixel of ink: the profile of a few short lines is blunt)

bench/page_text.py (12 random sheets faxed: skew ±3°, noise 0.2-0.7, fine or normal,
a quarter upside down): words read exactly in place 82 %, table cells 88 %, skew within
0.07°, turned right 12/12. Per A4 page at 200 dpi: CPU p50 1.41 s, p95 1.57 s (the
probe 0.25, the words 0.6, the English re-read 0.15-0.2, the half-width one 0.18 when
needed, the image work 0.35); wall p50 1.5 s with the machine's other load at ~3, 2.1 s
at ~4. A page with a text layer: 70-130 ms with its 200 dpi render.

What OCR gets wrong on these pages (the parser must expect it):
- a full-width colon in small print (3.5 mm) looks like dust and goes: 「担当：山田」 comes
  as two words, 担当 and 山田; in larger print it stays, read as ":" ("納品希望日 :11/25(水)");
- a comma inside a Japanese word stays a full stop ("合計金額22.850円"), and the English
  re-read still misses a separator now and then (9/600, 5.600): the amounts' digits are
  right, their separators are for the parser to check (quantity × unit price = amount);
- a dakuten lost or added: にんじん read にんしん, 長ねぎ 長ねき;
- on a fax in normal resolution (every other line) with noise, a few more kanji and kana:
  キャペベツ, 北海道導; a lone digit in a cell read as a kana is read again in English;
- half-width katakana: ﾐﾆﾄﾏﾄ and ﾄﾏﾄ mostly read (as full-width ミニトマト, トマト: the same
  after NFKC), but ﾊﾟｯｸ and 3ｹｰｽ seldom;
- look-alike kanji: 束 read as 東, 渋 as 波; 玉 alone in a cell sometimes に;
- a gray cell background (the header row) becomes dither on a fax: its words are read
  less often; a stamp (印) gives nothing or a word of nonsense;
- fax streaks: a garbled scan line comes out as a rule across the page; a streak down
  the page (dirt on the glass) is no rule (a table's rules down the page end on rules
  across it), but it is taken out of the ink with the rules and cuts the characters it
  crosses. A table ruled only down the page (no rules across) loses its rules too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from PIL import Image

from parsers.pagetext.agreement import read_again, weigh
from parsers.pagetext.page import MM_PER_INCH, PageText
from parsers.pagetext.picture import Gray, Mask, components, despeckle, find_skew, ink_mask, rotate, square_gray
from parsers.pagetext.rereading import reread_enlarged, reread_latin, upside_down
from parsers.pagetext.rules import merge_rules, scan_rules
from parsers.pagetext.segments import gray_crop, ink_crop, segments
from parsers.pagetext.tesseract import read_lines, tidy, token_ends
from parsers.pagetext.words import Run, WordReading, page_words

ArrayT = TypeVar("ArrayT", Gray, Mask)

log = logging.getLogger(__name__)

BLOT_MM = 1.5  # a blob this small read unsure (conf < 0.5) is a toner spot


def ocr_page(image: Image.Image, number: int, command: str) -> PageText:
    """The page picture read by OCR (``command``: Tesseract's executable); raises ``UnreadablePage`` when it fails."""
    started = time.perf_counter()
    picture, dpi = square_gray(image)
    gray: Gray = np.asarray(picture, dtype=np.uint8)
    ink, stats = despeckle(ink_mask(gray), dpi)
    quarter = 0
    sideways, skew = find_skew(stats, dpi)
    if sideways:  # turned a quarter clockwise to be read; which way up is told below, as for 0° and 180°
        quarter = 270
        gray, ink = np.ascontiguousarray(np.rot90(gray, -1)), np.ascontiguousarray(np.rot90(ink, -1))
        _, skew = find_skew(components(ink)[2], dpi)
    gray = rotate(gray, -skew, 255)
    ink = rotate(ink.view(np.uint8) * 255, -skew, 0) > 127
    rule_ink, rules = scan_rules(ink, dpi)
    labels, runs = segments(ink & ~rule_ink, dpi, rules)
    crops = [ink_crop(labels, run) for run in runs]
    turned = upside_down(runs, crops, dpi, command, number)
    if turned:
        crops = _turned(crops)
    lines = read_lines(crops, dpi, command)
    reread_latin(crops, lines, dpi, command)
    grays = [gray_crop(gray, labels, run) for run in runs]  # each word's, once: both re-readings use them
    if turned:
        grays = _turned(grays)
    others = reread_enlarged(grays, runs, lines, dpi, command)
    second = read_again(grays, runs, lines)

    height_px, width_px = gray.shape
    scale = MM_PER_INCH / dpi
    read: list[Run] = []
    texts: list[WordReading] = []
    for i, (run, line) in enumerate(zip(runs, lines, strict=True)):
        text = tidy(line.text(run.em))
        alternatives = tuple(sorted({tidy(other.text(run.em)) for other in others.get(i, ())} - {text, ""}))
        reading = weigh((text, line.conf, alternatives, token_ends(text, line)), second[i])
        text, conf = reading[0], reading[1]
        if len(run.pieces) == 1 and max(run.x1 - run.x0, run.bottom - run.top) < BLOT_MM / scale and conf < 0.5:
            log.debug("page %d: %r, a blot, dropped", number, text)
            continue  # a toner spot read as a character: nothing this small and doubtful is a character
        if text.strip():
            if turned:
                run = Run(run.pieces, width_px - run.x1, height_px - run.bottom, width_px - run.x0,
                          height_px - run.top, run.em)
            read.append(run)
            texts.append(reading)
    if turned:
        gray = _turned([gray])[0]
        w_mm, h_mm = width_px * scale, height_px * scale
        rules = merge_rules([(w_mm - r.x1, h_mm - r.bottom, w_mm - r.x0, h_mm - r.top) for r in rules],
                            min_length=0.0)
    upright = Image.fromarray(gray)
    upright.info["dpi"] = (dpi, dpi)
    return PageText(number=number, width_mm=round(width_px * scale, 2), height_mm=round(height_px * scale, 2),
                    words=page_words(read, texts, scale), rules=tuple(rules), source="ocr", image=upright, dpi=dpi,
                    rotation=(quarter + (180 if turned else 0)) % 360, skew=skew,
                    ms=(time.perf_counter() - started) * 1000)


def _turned(arrays: Sequence[ArrayT]) -> list[ArrayT]:
    """The arrays turned by 180°, each contiguous (OpenCV and PIL take no negative strides)."""
    return [np.ascontiguousarray(array[::-1, ::-1]) for array in arrays]
