"""read_document: the words on each page of an order, with their places and confidences.

Legacy buyers fax their own order sheets, or mail them as PDF. Whether a page has a
text layer (printed to PDF from a spreadsheet) or is a picture (a scan, a fax page, a
TIFF), it comes out the same: ``PageText`` with its ``Word``\\ s (text as read, NFC, never
NFKC), the ruled lines of its tables (``Rule``) and the upright, deskewed grayscale
picture that the coordinates refer to. Millimetres from the top-left corner of the
upright page throughout; ``mm * dpi / 25.4`` is the pixel in ``PageText.image``.

    pages = read_document(data, "application/pdf", "order.pdf")    # or a TIFF, PNG, JPEG
    for word in pages[0].words:                                      # sorted by (line, x0)
        print(word.line, word.text, word.x0, word.top, word.conf)

``read_document`` raises ``parsers.imaging.UnreadablePage`` and nothing else: what
``pages_from_attachment`` refuses (encrypted, corrupt, no pages, and ``TooLarge``: its limits hold
here too), "OCR failed: ..." (Tesseract missing, failing, or over ``tesseract.OCR_TIMEOUT``,
"OCR failed: timeout"), and ``TooLarge`` when a page's OCR time (``parsers.limits``) is spent.

A PDF page is read from its text layer when it has a usable one (``text_layer``), every other page
by OCR (``ocr``). A PDF is rendered and its text layer taken in one confined child process
(``parsers.imaging.read_pdf_confined``): pdfminer on a page of a million drawing operators takes
minutes and gigabytes, and there it takes at most the PDF reader's time and memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from parsers import limits
from parsers.imaging import TooLarge, UnreadablePage, pages_from_attachment, read_pdf_confined
from parsers.pagetext.ocr import ocr_page
from parsers.pagetext.page import PageText
from parsers.pagetext.text_layer import pdf_pages_with_text

__all__ = ["page_from_image", "read_document"]

log = logging.getLogger(__name__)


def read_document(data: bytes, content_type: str = "application/octet-stream", filename: str | None = None, *,
                  ocr_command: str = "tesseract") -> list[PageText]:
    """Every page of a PDF, TIFF or image attachment, read; raises ``UnreadablePage`` and nothing else."""
    started = time.perf_counter()
    rendered: list[tuple[Image.Image, PageText | None, float]]
    if b"%PDF-" in data[:1024]:
        rendered = _pdf_pages(data, filename)
    else:
        rendered = [(image, None, 0.0) for image in pages_from_attachment(data, content_type, filename)]
    render_ms = (time.perf_counter() - started) * 1000 / len(rendered) - sum(r[2] for r in rendered) / len(rendered)
    with _only_unreadable(f"attachment {filename} ({content_type})"):
        pages = []
        for index, (image, text_page, text_ms) in enumerate(rendered):
            page_started = time.perf_counter()
            with limits.page(index + 1):
                page = text_page if text_page is not None else ocr_page(image, index + 1, ocr_command)
                limits.check_time()
            page.ms = (time.perf_counter() - page_started) * 1000 + text_ms + render_ms
            log.debug("%s page %d: %s, %d words, %d rules, %.0f ms", filename or "attachment", page.number,
                      page.source, len(page.words), len(page.rules), page.ms)
            pages.append(page)
        return pages


def _pdf_pages(data: bytes, filename: str | None) -> list[tuple[Image.Image, PageText | None, float]]:
    try:
        return read_pdf_confined(pdf_pages_with_text, data, filename)
    except UnreadablePage:
        raise
    except Exception as exc:  # a library's surprise on hostile bytes, raised in the child
        log.warning("attachment %s: unexpected %s", filename, type(exc).__name__, exc_info=True)
        raise UnreadablePage(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc


def page_from_image(image: Image.Image, number: int = 1, *, ocr_command: str = "tesseract") -> PageText:
    """One page picture read by OCR (its ``info["dpi"]`` is its resolution, 200 dpi if it has none).

    Raises ``UnreadablePage`` and nothing else.
    """
    if image.width < 1 or image.height < 1:
        raise UnreadablePage("corrupt image: no size")
    limit = limits.current().page_pixels
    if image.width * image.height > limit:
        raise TooLarge(f"too large: {image.width}×{image.height} pixels (at most {limit / 1e6:.0f} Mpx)")
    with _only_unreadable(f"page {number}"), limits.page(number):
        page = ocr_page(image, number, ocr_command)
        limits.check_time()
        return page


@contextmanager
def _only_unreadable(what: str) -> Iterator[None]:
    """``UnreadablePage`` through, and any other exception as one: a library's surprise on hostile bytes is
    still only a reason the page cannot be read."""
    try:
        yield
    except UnreadablePage:
        raise
    except Exception as exc:
        log.warning("%s: unexpected %s", what, type(exc).__name__, exc_info=True)
        raise UnreadablePage(f"unreadable page: {type(exc).__name__}: {exc}") from exc
