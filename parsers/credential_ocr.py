"""read_temp_id: the temporary ID (仮ID) printed at the bottom of a returned FAX letter, read by OCR.

The last way to tell which invitation a faxed-back page answers, when neither its
QR code nor its printed reference can be read (torn, scribbled over, lost to the
fax). The letter prints the temporary ID alone on its line in a framed panel at the
bottom of the page (manual 000), large (7.3 mm capitals), bold, monospaced and
letter-spaced; ``CredentialLayout`` says where, in millimetres from the page's
top-left corner, and the character pitch. Reading a page:

1. Both ways up: the page as it came, then turned by 180° (faxes come upside down).
   In the bottom band of the page, straight lines the fax adds (a garbled scan line,
   dirt on the glass) are erased where they cross nothing; the band is deskewed by
   the angle (±8°) that makes its rows' ink profile sharpest; the panel's frame is
   two long rows of ink the panel's height apart and two long columns its width
   apart. The way up where the frame is found is the one read; without a frame
   either way, the panel is taken where the page puts it, both ways up.
2. The temporary ID's box (with a margin) is cut out and cut down to its glyphs:
   the blobs about as tall as a capital, on one line.
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

import io
import itertools
import logging
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from parsers.credential_text import ALPHABET, LENGTH, is_well_formed, normalize_credential
from parsers.errors import ParserError

__all__ = ["CredentialLayout", "LineOcr", "OcrFailed", "TempIdReading", "TesseractLine", "read_temp_id"]

log = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

MM_PER_INCH = 25.4
WORK_SCALE = 4.0  # px per mm where the band's skew is measured (~100 dpi)
CROP_SCALE = 6.0  # px per mm of what Tesseract reads (~150 dpi: capitals ~44 px tall)
MAX_SKEW = 8.0  # degrees searched either way
BAND_ABOVE = 20.0  # mm above the panel where the band starts (the page shifted or skewed by the fax)
MARGIN = 3.0  # mm around the temporary ID's box where its glyphs may be (a frame found a little off)
STREAK_MM = 12.0  # a straight run of ink longer than this along the image's rows or columns is the fax's
MAX_CANDIDATES = 8  # each a lookup; a wrong one finds an issued ID with odds of (live IDs) in 24**8 = 1.1e11
# Tesseract's page segmentation modes. On 160 simulated faxes (bench/faxback_temp_ids.py), reads right:
# the line as a raw line (13) 89 %, as a text line (7) 96 %, each character alone as a raw line 93 %
# (as a text line, 7 or 10, 53 %: one character in two comes back empty). Psm 7 drops a character it
# doubts (a 9 it takes for a Q that the whitelist refuses), psm 13 reads a J as a 3; the two disagree
# where each errs, and the vote below is right where any two agree.
RAW_LINE = 13
SINGLE_LINE = 7


@dataclass(frozen=True)
class CredentialLayout:
    """Where the credentials are on the letter, in mm from the top-left corner of the page.

    ``panel``       the framed panel at the bottom of the page, (x, y, width, height) of its
                    outer edge.
    ``temp_id``     the temporary ID's line inside it, (x, y, width, height): the first
                    character's cell starts at x, the glyphs are centred in the height.
    ``cap_height``  how tall its capitals and digits are printed.
    ``pitch``       one character's advance, letter spacing included (a monospaced font);
                    the ID is printed in two groups of ``group`` with one blank cell between.
    """

    page_size: tuple[float, float]
    panel: tuple[float, float, float, float]
    temp_id: tuple[float, float, float, float]
    cap_height: float
    pitch: float
    group: int = 4


@dataclass(frozen=True)
class TempIdReading:
    """What the OCR made of the temporary ID: normalized, well-formed candidates, likeliest first."""

    candidates: tuple[str, ...]
    reasons: tuple[str, ...]
    raw: tuple[str, ...] = ()  # what Tesseract returned, read by read, for the log and the bench
    rotation: int | None = None  # 0 or 180: which way up the page was read, when the panel's frame said so
    seconds: float = 0.0


class OcrFailed(ParserError):
    """Raised by a ``LineOcr`` that could not run (not installed, timed out, failed); never leaves read_temp_id."""


class LineOcr(Protocol):
    """Reads each image given as one line, with Tesseract's page segmentation mode ``psm``, within ``whitelist``.

    Returns one text per image, in order.
    """

    def __call__(self, images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        ...


@dataclass(frozen=True)
class TesseractLine:
    """The ``tesseract`` command (English model), single-threaded (``OMP_THREAD_LIMIT=1``), one process per call.

    Several images go in as the pages of one TIFF: Tesseract's start-up (~0.1 s) is paid once.
    """

    command: str = "tesseract"
    timeout: float = 20.0

    def __call__(self, images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        exe = shutil.which(self.command)
        if exe is None:
            raise OcrFailed(f"{self.command} is not installed")
        if not images:
            return []
        dpi = round(float(images[0].info.get("dpi", (300, 300))[0]))
        data = io.BytesIO()
        images[0].save(data, "TIFF", save_all=True, append_images=list(images[1:]), dpi=(dpi, dpi),
                       compression="tiff_deflate")
        args = [exe, "stdin", "stdout", "-l", "eng", "--psm", str(psm), "--dpi", str(dpi),
                "-c", f"tessedit_char_whitelist={whitelist}"]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            proc = subprocess.run(args, input=data.getvalue(), capture_output=True, timeout=self.timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise OcrFailed(f"tesseract took more than {self.timeout:.0f} s") from exc
        except OSError as exc:
            raise OcrFailed(f"tesseract could not be started: {exc}") from exc
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OcrFailed(f"tesseract failed ({proc.returncode}): {tail[0]}")
        pages = proc.stdout.decode("utf-8", "replace").split("\f")
        texts = [page.strip() for page in pages]
        return (texts + [""] * len(images))[:len(images)]


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


@dataclass(frozen=True)
class _Band:
    """The bottom band of the page, one way up, deskewed, and where the panel's frame is in it."""

    band: Gray  # deskewed, at the original image's scale
    clean: Gray  # the same without the fax's straight lines
    scale: float  # px per mm of the page across
    origin_y: float  # mm of the page at the band's top row, before deskewing
    frame: tuple[float, float, float, float] | None  # x0, y0, x1, y1 of the panel's outer edge in px


class _Reader:
    def __init__(self, layout: CredentialLayout, ocr: LineOcr) -> None:
        self.layout = layout
        self.ocr = ocr
        self.reasons: list[str] = []
        self.raw: list[str] = []

    def read(self, image: Image.Image, rotation: int | None) -> TempIdReading:
        gray = _gray_square(image)
        if min(gray.shape) < 300:
            return TempIdReading((), (f"page too small to read ({gray.shape[1]}×{gray.shape[0]})",))
        frameless: list[_Band] = []
        for turn in ([180, 0] if rotation == 180 else [0, 180]):
            band = self._band(gray if turn == 0 else np.ascontiguousarray(gray[::-1, ::-1]))
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

    # -- the panel --------------------------------------------------------------------------------

    def _band(self, gray: Gray) -> _Band:
        page_w, page_h = self.layout.page_size
        _, py, pw, ph = self.layout.panel
        top_mm = max(0.0, py - BAND_ABOVE)
        band = gray[int(top_mm * gray.shape[0] / page_h):, :]
        scale = gray.shape[1] / page_w
        # The fax's straight lines out first: a scan line garbled across the page would pass for level rows.
        clean = np.where(_streaks(_ink(band), scale), 255, band).astype(np.uint8)
        k = WORK_SCALE / scale
        small = cv2.resize(clean, (max(1, round(clean.shape[1] * k)), max(1, round(clean.shape[0] * k))),
                           interpolation=cv2.INTER_AREA)
        angle = _skew((small < 160).astype(np.float32))
        band, clean = _rotate(band, angle), _rotate(clean, angle)
        return _Band(band, clean, scale, top_mm, _frame(_ink(band), scale, pw, ph))

    # -- the line ---------------------------------------------------------------------------------

    def _read_band(self, band: _Band) -> list[str]:
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
        line = _glyph_line(crop, (kx + ky) / 2, layout.cap_height)
        if line is None:
            self.reasons.append("temporary ID not read: no line of large characters where the letter prints it")
            return []
        glyphs, offset = line
        # The first cell's left edge, in the line's pixels at CROP_SCALE: where the layout puts it
        # when the frame was found, else found from the first glyph.
        k = CROP_SCALE / kx
        first = (x0 - left - offset) * k if band.frame is not None else None
        ink = _ink_of(_resized(glyphs, k), 128)
        cells = _cells(ink, layout.pitch * CROP_SCALE, layout.group, first)
        reads: list[str] = []
        try:
            # One process: the line, then each character alone, as raw lines (psm 13).
            whole = _page(ink, pad=3.0 * CROP_SCALE)
            texts = self.ocr([whole, *cells], psm=RAW_LINE, whitelist=ALPHABET)
            reads = [texts[0], "".join(text.strip()[:1] for text in texts[1:])] if cells else texts[:1]
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


# ---------------------------------------------------------------------------------------------
# Image helpers


def _gray_square(image: Image.Image) -> Gray:
    """Grayscale pixels, resampled to square pixels if ``info["dpi"]`` says they are not."""
    gray = image.convert("L") if image.mode not in ("I", "I;16", "F") else image.convert("F").convert("L")
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            xdpi, ydpi = float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):
            xdpi = ydpi = 0.0
        if xdpi > 0 and ydpi > 0 and abs(xdpi / ydpi - 1) > 0.05:
            if xdpi > ydpi:
                gray = gray.resize((gray.width, round(gray.height * xdpi / ydpi)), Image.Resampling.BILINEAR)
            else:
                gray = gray.resize((round(gray.width * ydpi / xdpi), gray.height), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.uint8)


def _ink(gray: Gray) -> Mask:
    return np.asarray(gray < 128)


def _rotate(gray: Gray, angle: float) -> Gray:
    """``gray`` turned by ``angle`` degrees counter-clockwise about its centre, white filled."""
    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return np.asarray(cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), dtype=np.uint8)


def _skew(ink: npt.NDArray[np.float32]) -> float:
    """The angle (degrees, counter-clockwise) that sets the band's rows of ink straight: the sharpest row profile."""
    h, w = ink.shape

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rows = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST).sum(axis=1)
        return float(np.sum(np.diff(rows) ** 2))

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5), key=sharpness)
    return float(max(np.arange(coarse - 0.4, coarse + 0.41, 0.1), key=sharpness))


def _streaks(ink: Mask, scale: float) -> Mask:
    """The fax's straight lines: runs of ink along a row or a column longer than STREAK_MM, where they cross nothing.

    Where such a line crosses a glyph's stroke (ink on both sides of it, across), it is kept:
    the glyph stays whole.
    """
    length = max(3, round(STREAK_MM * scale))
    ink8 = ink.astype(np.uint8)
    down = cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8)).astype(bool)
    across = cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)).astype(bool)
    reach = max(2, round(0.4 * scale))
    beside = np.roll(ink, reach, axis=1) & np.roll(ink, -reach, axis=1)  # ink left and right of a vertical line
    around = np.roll(ink, reach, axis=0) & np.roll(ink, -reach, axis=0)  # above and below a horizontal one
    return np.asarray((down & ~beside) | (across & ~around))


def _frame(ink: Mask, scale: float, width_mm: float, height_mm: float) -> tuple[float, float, float, float] | None:
    """The panel's outer edge in a deskewed band: rows and columns of ink as long as its sides and as far apart.

    The lowest such pair of rows (the panel is the last thing on the page), then the
    outermost pair of columns between them.
    """
    rows = _runs(ink, axis=1, length=width_mm * scale * 0.7)
    pair: tuple[float, float] | None = None
    for top in rows:
        for bottom in rows:
            if abs((bottom - top) / scale - height_mm) < 3.0 and (pair is None or top > pair[0]):
                pair = (top, bottom)
    if pair is None:
        return None
    y0, y1 = pair
    cols = _runs(ink[int(y0):int(y1) + 1], axis=0, length=(y1 - y0) * 0.7)
    spans = [(left, right) for left in cols for right in cols if abs((right - left) / scale - width_mm) < 4.0]
    if not spans:
        return None
    x0, x1 = max(spans, key=lambda span: span[1] - span[0])
    # Runs are the frame line's middle; its outer edge is half a line (0.3 mm) further out.
    half = 0.3 * scale
    return x0 - half, y0 - half, x1 + half, y1 + half


def _runs(ink: Mask, *, axis: int, length: float) -> list[float]:
    """Middles of the bands of rows (axis=1) or columns (axis=0) holding at least ``length`` px of ink each."""
    long = (ink.sum(axis=axis) >= length).tolist()
    middles: list[float] = []
    start = None
    for i, flag in enumerate([*long, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            middles.append((start + i - 1) / 2)
            start = None
    return middles


def _glyph_line(crop: Gray, scale: float, cap_mm: float) -> tuple[Gray, int] | None:
    """The crop cut down to the line of glyphs (blobs about as tall as a capital), and the cut's left edge."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(_ink(crop).astype(np.uint8), connectivity=8)
    cap = cap_mm * scale
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        # Glyphs, or two or three run together by the fax; not a rule, not small print.
        if 0.55 * cap <= h <= 1.5 * cap and w <= 3.5 * cap and area >= 0.05 * cap * cap:
            boxes.append((x, y, x + w, y + h))
    if len(boxes) < LENGTH // 2:
        return None
    middles = np.array([(b[1] + b[3]) / 2 for b in boxes])
    centre = float(np.median(middles))
    boxes = [b for b, middle in zip(boxes, middles, strict=True) if abs(middle - centre) < 0.5 * cap]
    x0 = max(0, min(b[0] for b in boxes) - int(0.5 * cap))
    x1 = min(crop.shape[1], max(b[2] for b in boxes) + int(0.5 * cap))
    y0 = max(0, min(b[1] for b in boxes) - int(0.3 * cap))
    y1 = min(crop.shape[0], max(b[3] for b in boxes) + int(0.3 * cap))
    return crop[y0:y1, x0:x1], x0


def _resized(gray: Gray, k: float) -> Gray:
    size = (max(1, round(gray.shape[1] * k)), max(1, round(gray.shape[0] * k)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA),
                      dtype=np.uint8)


def _ink_of(gray: Gray, threshold: int) -> Mask:
    """Ink darker than ``threshold``, specks (smaller than a fifth of a square millimetre) dropped."""
    ink = (gray < threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= max(4, int(0.2 * CROP_SCALE * CROP_SCALE))
    keep[0] = False
    return np.asarray(keep[labels])


def _page(ink: Mask, *, pad: float) -> Image.Image:
    """Black ink on white with a white border, at CROP_SCALE, as Tesseract likes it."""
    p = round(pad)
    image = Image.fromarray(np.pad(np.where(ink, 0, 255).astype(np.uint8), p, constant_values=255))
    dpi = round(CROP_SCALE * MM_PER_INCH)
    image.info["dpi"] = (dpi, dpi)
    return image


def _cells(ink: Mask, pitch: float, group: int, first: float | None) -> list[Image.Image]:
    """The 8 characters of a monospaced line, each alone: the grid of cells whose edges cross the least ink.

    ``pitch`` is a cell's width in px; the grid is two groups of ``group`` cells with one
    blank cell between. ``first`` is where the layout puts the first cell's left edge
    (searched ±half a pitch, pitch ±4 %); None: from the first glyph.
    """
    columns = ink.sum(axis=0).astype(np.float64)
    width = len(columns)
    if not columns.any():
        return []
    ink_left = int(np.argmax(columns > 0))
    start = first if first is not None else ink_left - 0.1 * pitch
    slots = [*range(group), *range(group + 1, 2 * group + 1)]
    best: tuple[float, float, float] | None = None
    for factor in np.linspace(0.96, 1.04, 9):
        p = pitch * factor
        for origin in np.arange(start - p / 2, start + p / 2 + 0.1, 1.0):
            edges = [origin + i * p for i in range(2 * group + 2)]
            if edges[0] < -p / 2 or edges[-1] > width + p / 2:
                continue
            cost = sum(columns[int(e)] for e in edges if 0 <= int(e) < width)
            gap = columns[max(0, int(edges[group])):max(0, int(edges[group + 1]))].sum()  # the blank cell
            outside = columns[:max(0, int(edges[0]))].sum() + columns[max(0, int(edges[-1])):].sum()
            total = cost + gap + 3 * outside
            if best is None or total < best[0]:
                best = (total, origin, p)
    if best is None:
        return []
    _, origin, p = best
    cells = []
    for i in slots:
        a, b = max(0, round(origin + i * p)), min(width, round(origin + (i + 1) * p))
        cell = ink[:, a:b] if b > a else np.zeros((ink.shape[0], 1), bool)
        cells.append(_page(cell, pad=1.5 * CROP_SCALE))
    return cells
