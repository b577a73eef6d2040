"""Tesseract 5 reading our cut-out words, and its readings tidied.

Tesseract runs as a subprocess, one thread (``OMP_THREAD_LIMIT=1``), all of a page's crops as the pages
of one TIFF in one process, each read as one line (``--psm 7``; ``ocr`` has the measurements that chose
it). Its reading of a crop is a ``TesseractLine``; its text has a voicing mark read apart put back on
its kana (フ~: ブ), and ``tidy`` drops the dust read as punctuation at a word's ends ("大根." → "大根",
"1,800," → "1,800"). A failure is ``UnreadablePage("OCR failed: ...")``: Tesseract missing, failing,
or over ``OCR_TIMEOUT`` ("OCR failed: timeout"); ``TooLarge`` when it is the page's or the message's
reading time (``parsers.limits``) that ran out.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from parsers import limits
from parsers.imaging import UnreadablePage
from parsers.pagetext.picture import Gray, Mask
from parsers.pagetext.words import KANA, is_cjk, join_spaced

LANGUAGES = "jpn"
PSM = 7  # each word cut out and read as one line: see the measurements in parsers.pagetext.ocr
OCR_TIMEOUT = 60.0  # seconds for one Tesseract process
OCR_SPACE_EM = 0.25  # a gap this wide between the ink boxes of Latin words is a space


@dataclass(frozen=True)
class TesseractLine:
    """Tesseract's reading of one cut-out word: its words' (text, left, right, conf), left to right."""

    words: tuple[tuple[str, int, int, float], ...]

    def text(self, em: float) -> str:
        """The words as one, spaced as far apart as they were read (``em``: the height of a character)."""
        return voiced(join_spaced(((word, left, end) for word, left, end, _ in self.words), OCR_SPACE_EM * em,
                                  ocr=True))

    @property
    def conf(self) -> float:
        return min((w[3] for w in self.words), default=0.0)


def token_ends(text: str, line: TesseractLine) -> tuple[tuple[int, float], ...]:
    """Where each token of ``line`` ends in its tidied ``text``, with its confidence; none when some token is
    not found as it was read (tidying changed it) or there is only one."""
    ends: list[tuple[int, float]] = []
    at = 0
    for token, _, _, conf in line.words:
        token = unicodedata.normalize("NFC", token)
        found = text.find(token, at)
        if found < 0:
            return ()
        at = found + len(token)
        ends.append((at, round(conf, 3)))
    return tuple(ends) if len(ends) > 1 else ()


# A half-width kana's voicing mark read on its own (ﾌﾞ read フ~, ﾊﾟ ハ°): joined to its kana when they make one.
_VOICING = re.compile(rf"(?<={KANA})\s?([~”“\"゛゙]|[°º゜゚])")


def voiced(text: str) -> str:
    """NFC, with a dakuten or handakuten read as a mark of its own put on its kana (ハ°ック: パック)."""
    text = unicodedata.normalize("NFC", text)
    if not _VOICING.search(text):
        return text
    marked = _VOICING.sub(lambda m: "\u3099" if m[1] in "~”“\"゛゙" else "\u309a", text)
    return unicodedata.normalize("NFC", marked).replace("\u3099", "").replace("\u309a", "")


_DUST = "'`\"°·_~^"


def tidy(text: str) -> str:
    """A reading without the dust at its ends that Tesseract reads as punctuation.

    A quote mark, a degree sign, a middle dot or a stroke before or after a word; a full stop or a
    comma before one, or after Japanese or a digit (an amount never ends with a separator, Japanese
    ends with 。 and 、, not . and ,). "No." keeps its full stop.
    """
    text = text.strip()
    while text and (text[0] in _DUST or text[0] in ".,"):
        text = text[1:].lstrip()
    while len(text) > 1 and (text[-1] in _DUST or text[-1] in ".," and (is_cjk(text[-2]) or text[-2].isdigit()
                                                                       or text[-2] == " ")):
        text = text[:-1].rstrip()
    return text


def quality(lines: Iterable[TesseractLine]) -> float:
    """Mean confidence per character read (0..1)."""
    chars = total = 0.0
    for line in lines:
        for word, _, _, conf in line.words:
            chars += len(word)
            total += conf * len(word)
    return total / chars if chars else 0.0


def read_lines(crops: Sequence[Mask] | Sequence[Gray], dpi: float, command: str, *,
               languages: str = LANGUAGES) -> list[TesseractLine]:
    """Each crop (ink True, or gray with dark ink) read as one line: the pages of one TIFF, one process, one
    thread (``OMP_THREAD_LIMIT=1``)."""
    if not crops:
        return []
    exe = shutil.which(command)
    if exe is None:
        raise UnreadablePage(f"OCR failed: {command} is not installed")
    bits = crops[0].dtype == np.bool_
    images = [Image.fromarray(~crop if bits else crop) for crop in crops]
    tiff = io.BytesIO()
    images[0].save(tiff, "TIFF", save_all=True, append_images=images[1:],
                   compression="group4" if bits else "tiff_lzw", dpi=(round(dpi), round(dpi)))
    args = [exe, "stdin", "stdout", "-l", languages, "--psm", str(PSM), "--dpi", str(round(dpi)),
            "-c", "tessedit_do_invert=0", "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # its default threads make it 4× slower on 2 cores
    timeout = limits.capped(OCR_TIMEOUT)
    if timeout <= 0:
        limits.check_time()
    try:
        proc = subprocess.run(args, input=tiff.getvalue(), capture_output=True, timeout=timeout, env=env,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        limits.check_time()
        raise UnreadablePage("OCR failed: timeout") from exc
    except OSError as exc:
        raise UnreadablePage(f"OCR failed: {command} could not be started: {exc}") from exc
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()] or [""]
        raise UnreadablePage(f"OCR failed: {command} exited with {proc.returncode}: {tail[-1].strip()}")
    words: list[list[tuple[str, int, int, float]]] = [[] for _ in crops]
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) != 12 or cols[0] != "5" or not cols[11].strip():
            continue
        try:
            page, left, width, conf = int(cols[1]) - 1, int(cols[6]), int(cols[8]), float(cols[10])
        except ValueError:
            continue
        if conf >= 0 and 0 <= page < len(crops):
            words[page].append((cols[11].strip(), left, left + width, conf / 100))
    return [TesseractLine(tuple(sorted(w, key=lambda item: item[1]))) for w in words]
