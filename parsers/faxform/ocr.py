"""The OCR engine the reader uses: the ``Ocr`` protocol and ``TesseractOcr``, and ``OcrError``.

Tesseract runs as a subprocess, single-threaded; any ``Ocr`` can be passed instead
(tests pass fakes). Nothing here knows about forms. Its timeout is cut to the reading time the
page and the message have left (``parsers.limits``); with none left it does not start, and the
page's reader says the time is spent (``limits.check_time``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from parsers import limits
from parsers.errors import ParserError


class OcrError(ParserError):
    """Raised by an ``Ocr`` that could not run (not installed, timed out, failed); never leaves read_form."""


class Ocr(Protocol):
    """Reads the text of a small image: one line (``psm=7``) or a block (``psm=6``)."""

    def __call__(self, image: Image.Image, *, languages: str, psm: int, whitelist: str | None = None) -> str:
        ...


@dataclass(frozen=True)
class TesseractOcr:
    """The ``tesseract`` command, one process per call, single-threaded (``OMP_THREAD_LIMIT=1``).

    With its default threads Tesseract is 4 times slower on a 2-core machine, and
    worse when several workers run at once.
    """

    command: str = "tesseract"
    timeout: float = 30.0

    def __call__(self, image: Image.Image, *, languages: str, psm: int, whitelist: str | None = None) -> str:
        exe = shutil.which(self.command)
        if exe is None:
            raise OcrError(f"{self.command} is not installed")
        png = io.BytesIO()
        image.save(png, "PNG")
        dpi = round(float(image.info.get("dpi", (300, 300))[0]))
        args = [exe, "stdin", "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi)]
        if whitelist:
            args += ["-c", f"tessedit_char_whitelist={whitelist}"]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        timeout = limits.capped(self.timeout)
        if timeout <= 0:
            raise OcrError("no reading time left for the page")
        try:
            proc = subprocess.run(args, input=png.getvalue(), capture_output=True, timeout=timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise OcrError(f"tesseract took more than {timeout:.0f} s") from exc
        except OSError as exc:
            raise OcrError(f"tesseract could not be started: {exc}") from exc
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OcrError(f"tesseract failed ({proc.returncode}): {tail[0]}")
        return proc.stdout.decode("utf-8", "replace")
