"""A page's pixels as the reader holds them: the array types, the scales, ink and specks, PNG crops.

Every step works on 8-bit grayscale (``Gray``) and ink masks (``Mask``) of square
pixels; the rectified form is ``SCALE`` px/mm, the crops given to OCR ``CROP_SCALE``.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from parsers.imaging import square_pixels

Mask = npt.NDArray[np.bool_]
Gray = npt.NDArray[np.uint8]
Matrix = npt.NDArray[np.float64]

SCALE = 8.0  # px per mm of the rectified form (203 dpi)
CROP_SCALE = 12.0  # px per mm of the crops given to OCR (305 dpi)


def gray_square(image: Image.Image) -> Gray:
    """Grayscale pixels, resampled to square pixels if ``info["dpi"]`` says they are not."""
    if image.mode in ("I", "I;16", "F"):
        image = image.point(lambda v: v / 256).convert("L") if image.mode != "F" else image.convert("L")
    gray = image.convert("L")
    gray = square_pixels(gray, image.info.get("dpi"), Image.Resampling.NEAREST)
    return np.asarray(gray, dtype=np.uint8)


def ink_mask(gray: Gray) -> Mask:
    """Ink where darker than Otsu's threshold (kept between 90 and 200 for blank or dark pages)."""
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = min(200.0, max(90.0, float(t)))
    return np.asarray(gray < t)


def clean(mask: Mask, min_px: int = 30) -> Mask:
    """Without the specks: connected blobs smaller than ``min_px`` pixels are dropped."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_px
    keep[0] = False
    return np.asarray(keep[labels])


def png_bits(bits: Mask) -> bytes:
    """A crop as a 1-bit PNG at the crop scale."""
    dpi = round(CROP_SCALE * 25.4)
    png = io.BytesIO()
    Image.fromarray(np.where(bits, 0, 255).astype(np.uint8)).convert("1").save(png, "PNG", dpi=(dpi, dpi))
    return png.getvalue()
