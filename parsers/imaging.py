"""pages_from_attachment: the page images of a faxed or scanned attachment.

    PDF         every page rendered by pypdfium2 at 200 dpi, grayscale, in a confined child process
    TIFF        every frame (fax TIFFs: 1-bit, Group 3/4, 204×98 or 204×196 dpi),
                resampled to square pixels
    PNG, JPEG   the image (GIF, BMP and WebP too: Pillow reads them)

Pages come back in mode "L" with square pixels and ``info["dpi"]`` set. The kind of
file is told by its first bytes; the content type and file name are only used when
the bytes say nothing (fax-to-email gateways often label attachments
``application/octet-stream``).

Bad input never escapes as anything but ``UnreadablePage`` with a reason meant for
an operator: "encrypted PDF", "corrupt PDF: ...", "no pages", "corrupt image: ...",
"unsupported attachment", "empty attachment"; and ``TooLarge`` ("too large: ...") for an input over
one of the limits in force (``parsers.limits``): pages, pixels per page (checked from the page size
or the image header before anything is decoded or rendered), pixels of an image a PDF page embeds,
bytes a PDF's streams inflate to (``parsers.pdf_streams``, before PDFium sees the file), and the time
and memory the child process reading a PDF may take (``parsers.confined``).
A PDF whose encryption needs no password to open (owner password or permissions
only) is read like any other; pass ``refuse_encrypted=True`` to refuse those too.

``read_pdf_confined`` runs any PDF reader so (``parsers.pagetext`` takes the text layer there too).
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from PIL import Image, ImageOps, ImageSequence

from parsers.confined import Confinement, run_confined
from parsers.errors import TooLarge, UnreadablePage
from parsers.limits import Limits, capped, check_time, current, mib, reading
from parsers.pdf_streams import check_inflation

__all__ = ["UnreadablePage", "TooLarge", "pages_from_attachment", "read_pdf_confined", "render_pdf", "square_pixels",
           "MAX_PAGES", "MAX_PAGE_PIXELS", "RENDER_DPI"]

log = logging.getLogger(__name__)

T = TypeVar("T")

RENDER_DPI = 200
# The defaults of the limits (parsers.limits.Limits); the ones in force are ``current()``'s.
MAX_PAGES = Limits().pages
MAX_PAGE_PIXELS = Limits().page_pixels

_PDFIUM_LOCK = threading.Lock()
_PDF_ERR_FILE = 2  # FPDF_ERR_FILE
_PDF_ERR_PASSWORD = 4  # FPDF_ERR_PASSWORD
_NO_PAGES = re.compile(rb"/Count\s*0(?![0-9.])")
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def pages_from_attachment(data: bytes, content_type: str, filename: str | None = None, *,
                          refuse_encrypted: bool = False) -> list[Image.Image]:
    """The pages of a PDF, TIFF or image attachment, grayscale with square pixels.

    Raises ``UnreadablePage`` (``TooLarge`` among them) and nothing else.
    """
    if not data:
        raise UnreadablePage("empty attachment")
    kind = _kind(data, content_type, filename)
    try:
        if kind == "pdf":
            return read_pdf_confined(render_pdf, data, refuse_encrypted)
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


def read_pdf_confined(reader: Callable[..., T], data: bytes, *args: Any) -> T:
    """``reader(data, *args)`` in a child process with the limits in force (``parsers.confined``).

    The child checks first what the PDF's streams inflate to (``parsers.pdf_streams``); it gets
    ``pdf_seconds`` (or what is left of the page's or the message's time) and ``pdf_memory_bytes``.
    Raises what ``reader`` raises, ``TooLarge`` when the child runs out of either, and
    ``UnreadablePage`` when it dies.
    """
    limits = current()
    seconds = capped(limits.pdf_seconds)
    if seconds <= 0:
        check_time()
    try:
        result: T = run_confined(_confined_reader, reader, limits, data, *args, seconds=seconds,
                                 memory_bytes=limits.pdf_memory_bytes)
        return result
    except Confinement as exc:
        if exc.kind == "time":
            check_time()  # the message's time (or the page's), when that is what ran out
            raise TooLarge(f"too large: reading the PDF took more than {limits.pdf_seconds:g} s") from None
        if exc.kind == "memory":
            raise TooLarge(f"too large: reading the PDF needs more than {mib(limits.pdf_memory_bytes)} of memory"
                           ) from None
        log.warning("PDF reader died: %s", exc.detail)
        raise UnreadablePage(f"corrupt PDF: its reader died ({exc.detail})") from None


def _confined_reader(reader: Callable[..., T], limits: Limits, data: bytes, *args: Any) -> T:
    """In the child: the limits in force as in the caller, the streams checked, then ``reader``."""
    with reading(limits, timed=False):
        if b"%PDF-" in data[:1024]:
            check_inflation(data, limits.inflated_bytes, limits.inflated_total_bytes)
        return reader(data, *args)


def render_pdf(data: bytes, refuse_encrypted: bool = False) -> list[Image.Image]:
    """Every page of a PDF rendered by PDFium, grayscale, with the page and pixel limits in force.

    In the caller's process: meant to run confined (``read_pdf_confined``), after the inflation check.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    limits = current()
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
            if count > limits.pages:
                raise TooLarge(f"too large: {count} pages (at most {limits.pages})")
            pages = []
            scale = RENDER_DPI / 72
            for index in range(count):
                page = doc[index]
                try:
                    width, height = page.get_size()
                    px = (width * scale) * (height * scale)
                    if px > limits.page_pixels:
                        raise TooLarge(f"too large: page {index + 1} is {width / 72 * 25.4:.0f}×"
                                       f"{height / 72 * 25.4:.0f} mm, {px / 1e6:.0f} Mpx at {RENDER_DPI} dpi "
                                       f"(at most {limits.page_pixels / 1e6:.0f} Mpx)")
                    if width < 1 or height < 1:
                        raise UnreadablePage(f"corrupt PDF: page {index + 1} has no size")
                    _check_images(page, index, pdfium_c.FPDF_PAGEOBJ_IMAGE, limits.image_pixels)
                    image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
                finally:
                    page.close()
                image.info["dpi"] = (RENDER_DPI, RENDER_DPI)
                pages.append(image)
            return pages
        finally:
            doc.close()


def _check_images(page: object, index: int, image_type: int, limit: int) -> None:
    """Refuse a page embedding an image too large to decode, before PDFium decodes it to render the page.

    The sizes come from the images' dictionaries, so a few kilobytes of compressed zeros
    claiming 100,000 × 100,000 pixels (a decompression bomb) cost nothing to find.
    """
    for found in page.get_objects(filter=[image_type]):  # type: ignore[attr-defined]
        try:
            width, height = found.get_px_size()
        except Exception:  # PDFium could not tell: rendering will say what is wrong
            continue
        if width * height > limit:
            raise TooLarge(f"too large: page {index + 1} embeds an image of {width}×{height} pixels "
                           f"(at most {limit / 1e6:.0f} Mpx)")


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
        claimed = _BOMB_PIXELS.search(str(exc))
        raise TooLarge(f"too large: the image claims {int(claimed[1]) / 1e6:,.0f} Mpx" if claimed else
                       f"too large: {exc}") from exc
    except Exception as exc:
        raise UnreadablePage(f"corrupt image: {type(exc).__name__}: {exc}") from exc
    photo = getattr(image, "n_frames", 1) == 1 and image.format != "TIFF"
    limits = current()
    pages = []
    for index, frame in enumerate(_frames(image)):
        if index >= limits.pages:
            raise TooLarge(f"too large: more than {limits.pages} pages")
        pages.append(_square(frame, index, photo, limits.page_pixels))
    if not pages:
        raise UnreadablePage("no pages")
    return pages


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    try:
        yield from ImageSequence.Iterator(image)
    except EOFError:  # a frame count that lies
        return


def _square(frame: Image.Image, index: int, photo: bool = False, limit: int = MAX_PAGE_PIXELS) -> Image.Image:
    """One frame, decoded (size checked first), in mode "L" with square pixels; a photo turned as shown."""
    width, height = frame.size
    if width < 1 or height < 1:
        raise UnreadablePage(f"corrupt image: page {index + 1} has no size")
    xdpi, ydpi = _dpi(frame)
    stretch_x, stretch_y = max(1.0, ydpi / xdpi), max(1.0, xdpi / ydpi)  # fax "normal": each line stands for two
    if width * height * stretch_x * stretch_y > limit:
        # Known from the header: a TIFF claiming a million pixels square costs nothing until it is decoded.
        raise TooLarge(f"too large: page {index + 1} is {frame.width}×{frame.height} pixels "
                       f"(at most {limit / 1e6:.0f} Mpx)")
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
