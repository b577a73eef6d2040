"""The bottom band of a page, one way up: cleaned of the fax's straight lines, deskewed, its panel's frame found.

Straight lines the fax adds (a garbled scan line, dirt on the glass) are erased where
they cross nothing; the band is deskewed by the angle (±``MAX_SKEW``) that makes its
rows' ink profile sharpest; the panel's frame is two long rows of ink the panel's
height apart and two long columns its width apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from parsers.credential_ocr.layout import CredentialLayout
from parsers.imaging import square_pixels

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

WORK_SCALE = 4.0  # px per mm where the band's skew is measured (~100 dpi)
MAX_SKEW = 8.0  # degrees searched either way
BAND_ABOVE = 20.0  # mm above the panel where the band starts (the page shifted or skewed by the fax)
STREAK_MM = 12.0  # a straight run of ink longer than this along the image's rows or columns is the fax's


@dataclass(frozen=True)
class Band:
    """The bottom band of the page, one way up, deskewed, and where the panel's frame is in it."""

    band: Gray  # deskewed, at the original image's scale
    clean: Gray  # the same without the fax's straight lines
    scale: float  # px per mm of the page across
    origin_y: float  # mm of the page at the band's top row, before deskewing
    frame: tuple[float, float, float, float] | None  # x0, y0, x1, y1 of the panel's outer edge in px


def bottom_band(gray: Gray, layout: CredentialLayout) -> Band:
    """The band of ``gray`` (the page one way up) from a little above the panel down."""
    page_w, page_h = layout.page_size
    _, py, pw, ph = layout.panel
    top_mm = max(0.0, py - BAND_ABOVE)
    band = gray[int(top_mm * gray.shape[0] / page_h):, :]
    scale = gray.shape[1] / page_w
    # The fax's straight lines out first: a scan line garbled across the page would pass for level rows.
    clean = np.where(_streaks(ink(band), scale), 255, band).astype(np.uint8)
    k = WORK_SCALE / scale
    small = cv2.resize(clean, (max(1, round(clean.shape[1] * k)), max(1, round(clean.shape[0] * k))),
                       interpolation=cv2.INTER_AREA)
    angle = _skew((small < 160).astype(np.float32))
    band, clean = _rotate(band, angle), _rotate(clean, angle)
    return Band(band, clean, scale, top_mm, _frame(ink(band), scale, pw, ph))


def gray_square(image: Image.Image) -> Gray:
    """Grayscale pixels, resampled to square pixels if ``info["dpi"]`` says they are not."""
    gray = image.convert("L") if image.mode not in ("I", "I;16", "F") else image.convert("F").convert("L")
    gray = square_pixels(gray, image.info.get("dpi"), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.uint8)


def ink(gray: Gray) -> Mask:
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
