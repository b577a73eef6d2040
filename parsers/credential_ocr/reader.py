"""read_temp_id: the temporary ID (仮ID) printed at the bottom of a returned FAX letter, read by OCR.

The last way to tell which invitation a faxed-back page answers, when neither its
QR code nor its printed reference can be read (torn, scribbled over, lost to the
fax). The letter prints the temporary ID alone on its line in a framed panel at the
bottom of the page (manual 000), large (7.3 mm capitals), bold, monospaced and
letter-spaced; ``CredentialLayout`` says where, in millimetres from the page's
top-left corner, and the character pitch. Reading a page:

1. Both ways up: the page as it came, then turned by 180° (faxes come upside down).
   The bottom band of the page is cleaned, deskewed and its panel's frame looked for
   (``parsers.credential_ocr.band``). The way up where the frame is found is the one
   read; without a frame either way, the panel is taken where the page puts it, both
   ways up.
2. The temporary ID's box (with a margin) is cut out and cut down to its glyphs:
   the blobs about as tall as a capital, on one line (``parsers.credential_ocr.glyphs``).
3. Tesseract (``eng``, the credential alphabet as the whitelist) reads the line, and
   each of its 8 characters alone (the cells of the monospaced grid fitted to the
   line), all as raw lines (``--psm 13``) in one process (one multi-page TIFF). When
   the two reads disagree or one is not 8 characters, the line is read once more as
   a text line (``--psm 7``), which errs elsewhere.
4. Every read is normalized as a typed credential is
   (``parsers.credential_text.normalize_credential``); reads of 8 characters of the
   alphabet are the candidates, the most agreed first, then, where they disagree,
   mixes of them. Confusions are corrected only within the alphabet: the whitelist
   keeps Tesseract from answering O, 0, 1, I, L (never printed), and nothing outside
   the alphabet is guessed into it.

Which candidate is the real ID is for the caller: only an issued ID's lookup key
finds an invitation. Tesseract runs as a subprocess with ``OMP_THREAD_LIMIT=1``.
``read_temp_id`` never raises; what it cannot read gives no candidate and a reason.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from parsers.credential_ocr.band import Band, bottom_band, gray_square
from parsers.credential_ocr.glyphs import CROP_SCALE, cells, glyph_line, ink_of, page, resized
from parsers.credential_ocr.layout import CredentialLayout
from parsers.credential_ocr.tesseract import LineOcr, OcrFailed, TesseractLine
from parsers.credential_text import ALPHABET, is_well_formed, normalize_credential

log = logging.getLogger(__name__)

MARGIN = 3.0  # mm around the temporary ID's box where its glyphs may be (a frame found a little off)
MAX_CANDIDATES = 8  # each a lookup; a wrong one finds an issued ID with odds of (live IDs) in 24**8 = 1.1e11
# Tesseract's page segmentation modes. On 160 simulated faxes (bench/faxback_temp_ids.py), reads right:
# the line as a raw line (13) 89 %, as a text line (7) 96 %, each character alone as a raw line 93 %
# (as a text line, 7 or 10, 53 %: one character in two comes back empty). Psm 7 drops a character it
# doubts (a 9 it takes for a Q that the whitelist refuses), psm 13 reads a J as a 3; the two disagree
# where each errs, and the vote below is right where any two agree.
RAW_LINE = 13
SINGLE_LINE = 7


@dataclass(frozen=True)
class TempIdReading:
    """What the OCR made of the temporary ID: normalized, well-formed candidates, likeliest first."""

    candidates: tuple[str, ...]
    reasons: tuple[str, ...]
    raw: tuple[str, ...] = ()  # what Tesseract returned, read by read, for the log and the bench
    rotation: int | None = None  # 0 or 180: which way up the page was read, when the panel's frame said so
    seconds: float = 0.0


def read_temp_id(image: Image.Image, layout: CredentialLayout, *, ocr: LineOcr | None = None,
                 rotation: int | None = None) -> TempIdReading:
    """The temporary ID candidates printed on a page image (any mode; square pixels, or its ``info["dpi"]``).

    ``rotation`` (0 or 180), when the caller knows which way up the page came, is tried
    first. ``ocr`` defaults to ``TesseractLine()``. Never raises.
    """
    started = time.perf_counter()
    try:
        reading = _Reader(layout, ocr or TesseractLine()).read(image, rotation)
    except Exception as exc:  # a worker must never crash on a page
        log.exception("temporary ID: unexpected failure")
        reading = TempIdReading((), (f"temporary ID could not be read: {type(exc).__name__}: {exc}",))
    seconds = round(time.perf_counter() - started, 3)
    log.debug("temporary ID: %d candidate(s) in %.0f ms, reads %s", len(reading.candidates), seconds * 1000,
              reading.raw)
    return TempIdReading(reading.candidates, reading.reasons, reading.raw, reading.rotation, seconds)


class _Reader:
    def __init__(self, layout: CredentialLayout, ocr: LineOcr) -> None:
        self.layout = layout
        self.ocr = ocr
        self.reasons: list[str] = []
        self.raw: list[str] = []

    def read(self, image: Image.Image, rotation: int | None) -> TempIdReading:
        gray = gray_square(image)
        if min(gray.shape) < 300:
            return TempIdReading((), (f"page too small to read ({gray.shape[1]}×{gray.shape[0]})",))
        frameless: list[Band] = []
        for turn in ([180, 0] if rotation == 180 else [0, 180]):
            band = bottom_band(gray if turn == 0 else np.ascontiguousarray(gray[::-1, ::-1]), self.layout)
            if band.frame is None:
                frameless.append(band)
                continue
            # The frame says which way up the page is: the other way is not tried.
            readings = self._read_band(band)
            if readings:
                return TempIdReading(_ranked(readings), (), tuple(self.raw), turn)
            return TempIdReading((), tuple(self.reasons) or ("temporary ID not read in the credentials panel",),
                                 tuple(self.raw), turn)
        # No frame either way (torn, faded, under a streak): the panel where the page puts it, both ways up.
        for band in frameless:
            readings = self._read_band(band)
            if readings:
                return TempIdReading(_ranked(readings), (), tuple(self.raw))
        self.reasons.insert(0, "temporary ID not read: no credentials panel found at the bottom of the page")
        return TempIdReading((), tuple(dict.fromkeys(self.reasons)), tuple(self.raw))

    def _read_band(self, band: Band) -> list[str]:
        layout = self.layout
        lx, ly, lw, lh = layout.temp_id
        px, py, pw, ph = layout.panel
        if band.frame is not None:
            fx0, fy0, fx1, fy1 = band.frame
            kx, ky = (fx1 - fx0) / pw, (fy1 - fy0) / ph
            x0, y0 = fx0 + (lx - px) * kx, fy0 + (ly - py) * ky
        else:
            kx = ky = band.scale
            x0, y0 = lx * kx, (ly - band.origin_y) * ky
        x1, y1 = x0 + lw * kx, y0 + lh * ky
        mx, my = MARGIN * kx, MARGIN * ky
        left = max(0, int(x0 - mx))
        crop = band.clean[max(0, int(y0 - my)):int(y1 + my), left:int(x1 + mx)]
        if crop.size == 0:
            return []
        line = glyph_line(crop, (kx + ky) / 2, layout.cap_height)
        if line is None:
            self.reasons.append("temporary ID not read: no line of large characters where the letter prints it")
            return []
        glyphs, offset = line
        # The first cell's left edge, in the line's pixels at CROP_SCALE: where the layout puts it
        # when the frame was found, else found from the first glyph.
        k = CROP_SCALE / kx
        first = (x0 - left - offset) * k if band.frame is not None else None
        ink = ink_of(resized(glyphs, k), 128)
        characters = cells(ink, layout.pitch * CROP_SCALE, layout.group, first)
        reads: list[str] = []
        try:
            # One process: the line, then each character alone, as raw lines (psm 13).
            whole = page(ink, pad=3.0 * CROP_SCALE)
            texts = self.ocr([whole, *characters], psm=RAW_LINE, whitelist=ALPHABET)
            reads = [texts[0], "".join(text.strip()[:1] for text in texts[1:])] if characters else texts[:1]
            values = _well_formed(reads)
            if len(values) < 2 or len(set(values)) > 1 or "3" in values[0]:
                # A miss, a disagreement or a 3 (psm 13 reads a J as a 3, line and characters alike):
                # the line once more, read the other way (psm 7).
                reads += self.ocr([whole], psm=SINGLE_LINE, whitelist=ALPHABET)
        except OcrFailed as exc:
            self.reasons.append(f"temporary ID not read: {exc}")
        self.raw.extend(text.strip() for text in reads)
        values = _well_formed(reads)
        if reads and not values:
            self.reasons.append(f"temporary ID not read: OCR gave {', '.join(repr(t.strip()) for t in reads)}, "
                                f"not 8 characters of the credential alphabet")
        return values


def _well_formed(texts: Sequence[str]) -> list[str]:
    return [value for value in map(normalize_credential, texts) if is_well_formed(value)]


def _ranked(readings: Sequence[str]) -> tuple[str, ...]:
    """The readings and, where they disagree, mixes of them: the likeliest first.

    Mixes take, at each disputed position (at most 3), a character some read gave there:
    nothing outside the alphabet, nothing no read gave. Each candidate scores the votes
    its characters got, position by position; ties go to the one read whole more often,
    then to the one read first.
    """
    columns = [Counter(chars) for chars in zip(*readings, strict=True)]
    candidates = list(dict.fromkeys(readings))
    disputed = [i for i, column in enumerate(columns) if len(column) > 1]
    if disputed and len(disputed) <= 3:
        majority = [column.most_common(1)[0][0] for column in columns]
        for choice in itertools.product(*([ch for ch, _ in columns[i].most_common()] for i in disputed)):
            for i, ch in zip(disputed, choice, strict=True):
                majority[i] = ch
            candidates.append("".join(majority))
    whole = Counter(readings)
    order = {value: n for n, value in enumerate(dict.fromkeys(candidates))}

    def likelihood(value: str) -> tuple[int, int, int]:
        return (-sum(column[ch] for column, ch in zip(columns, value, strict=True)), -whole[value], order[value])

    return tuple(sorted(order, key=likelihood)[:MAX_CANDIDATES])
