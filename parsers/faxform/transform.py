"""Maps between page millimetres and image pixels: fitting them, applying them, resampling through them.

A map is a 3×3 matrix, page mm → image px (a homography from four registration
marks, an affine map from three or from the QR code's corners).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from parsers.faxform.geometry import FormGeometry, Rect
from parsers.faxform.pixels import Gray, Matrix


def apply_all(m: Matrix, x: npt.NDArray[np.float64],
              y: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``apply`` to many points at once."""
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w


def homography(mm: Sequence[tuple[float, float]], px: Sequence[tuple[float, float]]) -> Matrix:
    m = cv2.getPerspectiveTransform(np.array(mm, dtype=np.float32), np.array(px, dtype=np.float32))
    return np.asarray(m, dtype=np.float64)


def affine(mm: Sequence[tuple[float, float]], px: Sequence[tuple[float, float]]) -> Matrix:
    """The least-squares affine map mm → px through three or more point pairs, as a 3×3 matrix."""
    a = np.array([[x, y, 1.0] for x, y in mm])
    b = np.array(px, dtype=np.float64)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.vstack([solution.T, [0.0, 0.0, 1.0]])


def apply(m: Matrix, point: tuple[float, float]) -> tuple[float, float]:
    x, y, w = m @ np.array([point[0], point[1], 1.0])
    return float(x / w), float(y / w)


def mm_px(m: Matrix, at: tuple[float, float]) -> float:
    """Pixels per millimetre of ``m`` around ``at``."""
    a = apply(m, at)
    b = apply(m, (at[0] + 1, at[1]))
    c = apply(m, (at[0], at[1] + 1))
    return (math.dist(a, b) + math.dist(a, c)) / 2


def page_rotation(m: Matrix, geometry: FormGeometry) -> tuple[int, float]:
    """How the page is turned (counter-clockwise degrees): a multiple of 90, and the skew left over."""
    at = geometry.marks_rect.center
    a = apply(m, at)
    b = apply(m, (at[0] + 10, at[1]))
    theta = math.degrees(math.atan2(-(b[1] - a[1]), b[0] - a[0]))
    quarter = round(theta / 90)
    return (quarter * 90) % 360, theta - quarter * 90


def warp(gray: Gray, to_page: Matrix, rect: Rect, scale: float) -> Gray:
    """``rect`` of the page at ``scale`` px/mm, sampled from the image through ``to_page``."""
    size = (max(1, round(rect.w * scale)), max(1, round(rect.h * scale)))
    to_mm = np.array([[1 / scale, 0, rect.x], [0, 1 / scale, rect.y], [0, 0, 1]], dtype=np.float64)
    m = to_page @ to_mm
    warped = cv2.warpPerspective(gray, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return np.asarray(warped, dtype=np.uint8)
