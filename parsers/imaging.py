"""pages_from_attachment: the page images of a faxed or scanned attachment.

    PDF         every page rendered by pypdfium2 at 200 dpi, grayscale
    TIFF        every frame (fax TIFFs: 1-bit, Group 3/4, 204×98 or 204×196 dpi),
                resampled to square pixels
    PNG, JPEG   the image (GIF, BMP and WebP too: Pillow reads them)

Pages come back in mode "L" with square pixels and ``info["dpi"]`` set. The kind of
file is told by its first bytes; the content type and file name are only used when
the bytes say nothing (fax-to-email gateways often label attachments
``application/octet-stream``).

Bad input never escapes as anything but ``UnreadablePage`` with a reason meant for
an operator: "encrypted PDF", "corrupt PDF: ...", "no pages", "too many pages",
"image too large", "decompression bomb: ...", "corrupt image: ...", "unsupported attachment",
"empty attachment".
A PDF whose encryption needs no password to open (owner password or permissions
only) is read like any other; pass ``refuse_encrypted=True`` to refuse those too.

Limits against decompression bombs and endless documents: ``MAX_PAGES`` pages and
``MAX_PAGE_PIXELS`` pixels per page (checked from the page size before anything is
decoded or rendered). PDFium is not thread-safe: renders are serialised by a lock.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from typing import cast

from PIL import Image, ImageOps, ImageSequence

from parsers.errors import ParserError

__all__ = ["UnreadablePage", "pages_from_attachment", "square_pixels", "MAX_PAGES", "MAX_PAGE_PIXELS", "RENDER_DPI"]

log = logging.getLogger(__name__)

RENDER_DPI = 200
MAX_PAGES = 50
# A3 at 300 dpi is 17.4 Mpx; a fax page at 200×200 dpi about 3.9 Mpx.
MAX_PAGE_PIXELS = 30_000_000
# An image inside a PDF page is decoded whole before it is scaled down: A3 at 600 dpi is 70 Mpx.
MAX_IMAGE_PIXELS = 100_000_000

_PDFIUM_LOCK = threading.Lock()
_PDF_ERR_FILE = 2  # FPDF_ERR_FILE
_PDF_ERR_PASSWORD = 4  # FPDF_ERR_PASSWORD
_NO_PAGES = re.compile(rb"/Count\s*0(?![0-9.])")


class UnreadablePage(ParserError):
    """Raised when an attachment gives no page images; ``reason`` says why, for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pages_from_attachment(data: bytes, content_type: str, filename: str | None = None, *,
                          refuse_encrypted: bool = False) -> list[Image.Image]:
    """The pages of a PDF, TIFF or image attachment, grayscale with square pixels.

    Raises ``UnreadablePage`` and nothing else.
    """
    if not data:
        raise UnreadablePage("empty attachment")
    kind = _kind(data, content_type, filename)
    try:
        if kind == "pdf":
            return _pdf_pages(data, refuse_encrypted)
        if kind == "image":
            return _image_pages(data)
    except UnreadablePage:
        raise
    except Exception as exc:  # a library's surprise on hostile bytes: still only a reason
        log.warning("attachment %s (%s): unexpected %s", filename, content_type, type(exc).__name__, exc_info=True)
        raise UnreadablePage(f"corrupt {kind.upper() if kind == 'pdf' else 'image'}: "
                             f"{type(exc).__name__}: {exc}") from exc
    raise UnreadablePage(f"unsupported attachment: {content_type or 'no content type'}"
                         + (f" ({filename})" if filename else ""))


def _kind(data: bytes, content_type: str, filename: str | None) -> str:
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"II*\x00", b"MM\x00*", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")) \
            or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return "image"
    ctype = (content_type or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    if ctype == "application/pdf" or name.endswith(".pdf"):
        return "pdf"  # no header: it will say "corrupt PDF"
    if ctype.startswith("image/") or name.endswith((".tif", ".tiff", ".png", ".jpg", ".jpeg")):
        return "image"
    return "unknown"


# -- PDF ------------------------------------------------------------------------------------------


def _pdf_pages(data: bytes, refuse_encrypted: bool) -> list[Image.Image]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with _PDFIUM_LOCK:
        # PDFium's last error is global and some failures (a PDF without pages) leave it
        # untouched: set it to "file error", which loading from memory never reports.
        pdfium_c.FPDF_LoadDocument(b"/nonexistent/torii-pdfium-error-reset.pdf", None)
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == _PDF_ERR_PASSWORD and b"/Encrypt" in data:
                raise UnreadablePage("encrypted PDF: a password is needed to open it") from exc
            if code == _PDF_ERR_FILE:  # failed without saying why
                if _NO_PAGES.search(data):
                    raise UnreadablePage("no pages: the PDF's page tree is empty") from exc
                raise UnreadablePage("corrupt PDF: PDFium cannot open it") from exc
            raise UnreadablePage(f"corrupt PDF: {_pdfium_reason(exc)}") from exc
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1:
                if refuse_encrypted:
                    raise UnreadablePage("encrypted PDF (it opens without a password, but encrypted PDFs are refused)")
                log.info("encrypted PDF that opens without a password: read")
            count = len(doc)
            if count == 0:
                raise UnreadablePage("no pages")
            if count > MAX_PAGES:
                raise UnreadablePage(f"too many pages: {count} (at most {MAX_PAGES})")
            pages = []
            scale = RENDER_DPI / 72
            for index in range(count):
                page = doc[index]
                try:
                    width, height = page.get_size()
                    px = (width * scale) * (height * scale)
                    if px > MAX_PAGE_PIXELS:
                        raise UnreadablePage(f"image too large: page {index + 1} is {width / 72 * 25.4:.0f}×"
                                             f"{height / 72 * 25.4:.0f} mm")
                    if width < 1 or height < 1:
                        raise UnreadablePage(f"corrupt PDF: page {index + 1} has no size")
                    _check_images(page, index, pdfium_c.FPDF_PAGEOBJ_IMAGE)
                    image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
                finally:
                    page.close()
                image.info["dpi"] = (RENDER_DPI, RENDER_DPI)
                pages.append(image)
            return pages
        finally:
            doc.close()


def _check_images(page: object, index: int, image_type: int) -> None:
    """Refuse a page embedding an image too large to decode, before PDFium decodes it to render the page.

    The sizes come from the images' dictionaries, so a few kilobytes of compressed zeros
    claiming 100,000 × 100,000 pixels (a decompression bomb) cost nothing to find.
    """
    for found in page.get_objects(filter=[image_type]):  # type: ignore[attr-defined]
        try:
            width, height = found.get_px_size()
        except Exception:  # PDFium could not tell: rendering will say what is wrong
            continue
        if width * height > MAX_IMAGE_PIXELS:
            raise UnreadablePage(f"decompression bomb: page {index + 1} embeds an image of {width}×{height} pixels")


def _pdfium_reason(exc: Exception) -> str:
    text = str(exc)
    if "(PDFium: " in text:
        return text.split("(PDFium: ", 1)[1].rstrip(").").lower()
    return text


# -- images ---------------------------------------------------------------------------------------


def _image_pages(data: bytes) -> list[Image.Image]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadablePage(f"image too large: {exc}") from exc
    except Exception as exc:
        raise UnreadablePage(f"corrupt image: {type(exc).__name__}: {exc}") from exc
    photo = getattr(image, "n_frames", 1) == 1 and image.format != "TIFF"
    pages = []
    for index, frame in enumerate(_frames(image)):
        if index >= MAX_PAGES:
            raise UnreadablePage(f"too many pages: more than {MAX_PAGES}")
        pages.append(_square(frame, index, photo))
    if not pages:
        raise UnreadablePage("no pages")
    return pages


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    try:
        yield from ImageSequence.Iterator(image)
    except EOFError:  # a frame count that lies
        return


def _square(frame: Image.Image, index: int, photo: bool = False) -> Image.Image:
    """One frame, decoded (size checked first), in mode "L" with square pixels; a photo turned as shown."""
    width, height = frame.size
    if width < 1 or height < 1:
        raise UnreadablePage(f"corrupt image: page {index + 1} has no size")
    xdpi, ydpi = _dpi(frame)
    stretch_x, stretch_y = max(1.0, ydpi / xdpi), max(1.0, xdpi / ydpi)  # fax "normal": each line stands for two
    if width * height * stretch_x * stretch_y > MAX_PAGE_PIXELS:
        raise UnreadablePage(f"image too large: page {index + 1} is {frame.width}×{frame.height} pixels")
    try:
        frame.load()
        if photo:
            frame = _as_shown(frame)
        if frame.mode in ("I", "I;16", "I;16B", "F"):
            gray = _deep_to_gray(frame)
        elif frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
            rgba = frame.convert("RGBA")
            gray = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")  # on paper
        else:
            gray = frame.convert("L")
    except Exception as exc:
        raise UnreadablePage(f"corrupt image: page {index + 1}: {type(exc).__name__}: {exc}") from exc
    width, height = round(gray.width * stretch_x), round(gray.height * stretch_y)
    if gray.size != (width, height):
        # nearest: a fax line repeated, as fax viewers show it; the reader thresholds anyway
        gray = gray.resize((width, height), Image.Resampling.NEAREST)
    dpi = max(xdpi, ydpi)
    gray.info["dpi"] = (dpi, dpi)
    return gray


def _as_shown(image: Image.Image) -> Image.Image:
    """A photo or scan turned as its EXIF orientation says it is shown."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block: the image as stored
        log.info("EXIF orientation unreadable; image taken as stored")
        return image


def _deep_to_gray(frame: Image.Image) -> Image.Image:
    low, high = cast(tuple[float, float], frame.getextrema())
    span = max(1.0, float(high) - float(low))
    return frame.point(lambda v: (v - float(low)) * 255.0 / span).convert("L")


def square_pixels(gray: Image.Image, dpi: object, resample: Image.Resampling) -> Image.Image:
    """``gray`` stretched along its coarse axis when ``dpi`` (an image's ``info["dpi"]``) says its pixels are
    more than 5 % from square; as it is when ``dpi`` says nothing usable."""
    if not (isinstance(dpi, tuple) and len(dpi) == 2):
        return gray
    try:
        xdpi, ydpi = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError):
        return gray
    if not (xdpi > 0 and ydpi > 0 and abs(xdpi / ydpi - 1) > 0.05):
        return gray
    if xdpi > ydpi:
        return gray.resize((gray.width, round(gray.height * xdpi / ydpi)), resample)
    return gray.resize((round(gray.width * ydpi / xdpi), gray.height), resample)


def _dpi(frame: Image.Image) -> tuple[float, float]:
    """The frame's x and y resolution (200 dpi if it does not say or says nonsense)."""
    dpi = frame.info.get("dpi")
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return 200.0, 200.0
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError):
        return 200.0, 200.0
    if not (20 <= x <= 2400 and 20 <= y <= 2400):
        return 200.0, 200.0
    if abs(x / y - 1) < 0.05:  # 204×196 is square enough
        return x, x
    return x, y
