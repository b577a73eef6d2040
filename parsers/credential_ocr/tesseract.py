"""The line OCR the temporary ID's reader uses: the ``LineOcr`` protocol, ``TesseractLine``, and ``OcrFailed``.

Tesseract runs as a subprocess, single-threaded (``OMP_THREAD_LIMIT=1``); any
``LineOcr`` can be passed instead (tests pass fakes). Its timeout is cut to the reading time the
page and the message have left (``parsers.limits``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from parsers import limits
from parsers.errors import ParserError


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
        timeout = limits.capped(self.timeout)
        if timeout <= 0:
            raise OcrFailed("no reading time left for the page")
        try:
            proc = subprocess.run(args, input=data.getvalue(), capture_output=True, timeout=timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise OcrFailed(f"tesseract took more than {timeout:.0f} s") from exc
        except OSError as exc:
            raise OcrFailed(f"tesseract could not be started: {exc}") from exc
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OcrFailed(f"tesseract failed ({proc.returncode}): {tail[0]}")
        pages = proc.stdout.decode("utf-8", "replace").split("\f")
        texts = [page.strip() for page in pages]
        return (texts + [""] * len(images))[:len(images)]
