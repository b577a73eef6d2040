"""A scanned page's picture made ready to read: square gray pixels, its ink, its skew and which way it runs.

Square pixels (fax "normal" lines doubled), Otsu's threshold; specks of fax dust (up to 0.45 mm across,
nothing within 0.8 mm, or a pixel or two) removed. Skew and sideways pages from projection profiles of
the middles of the blobs the size of characters: the angle within ±6° (to 0.01°) where their profile
across the page (or down it) is sharpest; down sharper than across (1.5×): the page came sideways and
is turned a quarter. The picture is turned by ``-skew`` about its centre, keeping its size. The sending
machine's header line, printed straight across the top whatever the sheet's skew, is left out when the
rest of the page says otherwise.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from parsers.imaging import RENDER_DPI
from parsers.pagetext.page import HEADER_LINE_MM, MM_PER_INCH

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.int32]

MAX_SKEW = 6.0  # degrees searched either way
SIDEWAYS = 1.5  # the columns' profile this much sharper than the rows': the text runs down the page


def square_gray(image: Image.Image) -> tuple[Image.Image, float]:
    """The picture in mode "L" with square pixels, and its resolution (200 dpi when it says none)."""
    dpi = image.info.get("dpi")
    try:
        xdpi, ydpi = (float(dpi[0]), float(dpi[1])) if dpi else (float(RENDER_DPI), float(RENDER_DPI))
    except (TypeError, ValueError, IndexError):
        xdpi = ydpi = float(RENDER_DPI)
    if not (20 <= xdpi <= 2400 and 20 <= ydpi <= 2400):
        xdpi = ydpi = float(RENDER_DPI)
    gray = image if image.mode == "L" else image.convert("L")
    if abs(xdpi / ydpi - 1) < 0.05:
        return gray, xdpi
    resolution = max(xdpi, ydpi)
    size = (round(gray.width * resolution / xdpi), round(gray.height * resolution / ydpi))
    return gray.resize(size, Image.Resampling.NEAREST), resolution  # a fax line repeated, as sent


def ink_mask(gray: Gray) -> Mask:
    """Dark pixels: Otsu's threshold, kept within reason for an almost blank page."""
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return gray < min(max(float(level), 100.0), 200.0)


def components(ink: Mask) -> tuple[int, Labels, Labels]:
    """The ink's 8-connected components: their count, each pixel's label, and their stats (OpenCV's)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    return int(count), np.asarray(labels, dtype=np.int32), np.asarray(stats, dtype=np.int32)


def despeckle(ink: Mask, dpi: float) -> tuple[Mask, Labels]:
    """The ink without fax dust, and its components' stats as they were."""
    count, labels, stats = components(ink)
    px_per_mm = dpi / MM_PER_INCH
    area = stats[:, cv2.CC_STAT_AREA]
    small = area <= max(2, round((0.45 * px_per_mm) ** 2))
    small[0] = False
    if not small.any():
        return ink, stats
    speck = small[labels]
    radius = max(1, round(0.8 * px_per_mm))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = cv2.dilate((ink & ~speck).view(np.uint8), kernel).view(np.bool_)
    keep = np.zeros(count, dtype=np.bool_)
    keep[np.unique(labels[speck & near])] = True  # near other ink: a full stop, a comma, a dakuten
    remove = small & ~keep | (area <= max(1, round((0.15 * px_per_mm) ** 2)))
    remove[0] = False
    return ink & ~remove[labels], stats


def find_skew(stats: Labels, dpi: float) -> tuple[bool, float]:
    """Whether the text runs down the page (it came sideways), and its skew (degrees, counter-clockwise).

    A projection profile of the middles of the character-sized blobs: the angle at which the sum of the
    squared counts per fifth of a millimetre across (or down) the page is greatest, i.e. the lines of
    text are sharpest. The middles, not every pixel of ink: a page of a few short lines has a profile
    of its pixels too blunt to tell 0.5° from 1°.

    The sending machine prints its header line straight across the top of the page, however skewed the
    sheet went through: a long sharp line at 0° that can outweigh a sheet of few words. When the page
    without its top ``HEADER_LINE_MM`` is skewed otherwise (by more than 0.3°), that is the sheet's skew.
    """
    px_per_mm = dpi / MM_PER_INCH
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    glyph = (np.maximum(w, h) >= 0.6 * px_per_mm) & (w <= 12 * px_per_mm) & (h <= 12 * px_per_mm)
    glyph[0] = False
    whole = _profile_skew(stats, glyph, px_per_mm)
    in_strip = stats[:, cv2.CC_STAT_TOP] < HEADER_LINE_MM * px_per_mm
    if not (glyph & in_strip).any():
        return whole or (False, 0.0)  # nothing up there: the same blobs would give the same angle
    below = _profile_skew(stats, glyph & ~in_strip, px_per_mm)
    if whole is None or below is None:
        return whole or below or (False, 0.0)
    return below if below[0] != whole[0] or abs(below[1] - whole[1]) > 0.3 else whole


def _profile_skew(stats: Labels, glyph: npt.NDArray[np.bool_], px_per_mm: float) -> tuple[bool, float] | None:
    if glyph.sum() < 10:
        return None
    w, h = stats[glyph, cv2.CC_STAT_WIDTH], stats[glyph, cv2.CC_STAT_HEIGHT]
    xs = (stats[glyph, cv2.CC_STAT_LEFT] + w / 2).astype(np.float64)
    ys = (stats[glyph, cv2.CC_STAT_TOP] + h / 2).astype(np.float64)
    band = 0.2 * px_per_mm

    def sharpness(degrees: float, sideways: bool) -> float:
        a = math.radians(degrees)
        v = xs * math.cos(a) - ys * math.sin(a) if sideways else xs * math.sin(a) + ys * math.cos(a)
        counts = np.bincount(((v - v.min()) / band).astype(np.int64))
        return float(np.dot(counts, counts))

    best: dict[bool, tuple[float, float]] = {}
    for sideways in (False, True):
        angle = 0.0
        for lo, hi, by in ((-MAX_SKEW, MAX_SKEW, 0.25), (-0.3, 0.3, 0.05), (-0.05, 0.05, 0.01)):
            grid = np.arange(angle + lo, angle + hi + 1e-9, by)
            angle = float(max(grid, key=lambda d: sharpness(float(d), sideways)))
        best[sideways] = (angle, sharpness(angle, sideways))
    sideways = best[True][1] > SIDEWAYS * best[False][1]
    return sideways, round(best[sideways][0], 2) + 0.0  # + 0.0: no -0.0


def rotate(array: Gray, degrees: float, fill: int) -> Gray:
    """The picture turned counter-clockwise by a small angle about its centre, its size kept."""
    if abs(degrees) < 0.01:
        return array
    h, w = array.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(array, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=fill)
    return np.asarray(turned, dtype=np.uint8)
