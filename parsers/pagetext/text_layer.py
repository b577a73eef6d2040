"""A PDF page read from its text layer (pdfplumber), or None when its picture is to be read instead.

A PDF page with characters is read from them: points to millimetres, NFC; its rules come from its
drawing (``rules.pdf_rules``). The picture is PDFium's 200 dpi render. A page is read by OCR instead
when it has no characters (a scan), when most are glyph numbers without Unicode ("(cid:12)") or run
sideways (a page turned by /Rotate), or when it is mostly an image with a few characters on it (a fax
gateway's header line over a scan); and when pdfplumber cannot read what PDFium rendered.

``pdf_pages_with_text`` does it all for a PDF, in the confined child process that renders it.
"""

from __future__ import annotations

import io
import logging
import time
import unicodedata
from typing import Any

from PIL import Image

from parsers.imaging import RENDER_DPI, render_pdf
from parsers.pagetext.page import MM_PER_INCH, PageText
from parsers.pagetext.rules import pdf_rules
from parsers.pagetext.words import Piece, Run, WordReading, join_runs, join_spaced, page_words, vertical_lines

log = logging.getLogger(__name__)

PT_PER_INCH = 72.0
SPLIT_EM = 0.8  # a gap wider than this many character heights (advance boxes) starts a new word
SPACE_EM = 0.15  # a gap this wide between the advance boxes of Latin words is a space (a space: 0.25-0.33)
MIN_TEXT_CHARS = 40  # fewer characters than this on a page that is mostly an image: the image is the page


def pdf_pages_with_text(data: bytes, filename: str | None) -> list[tuple[Image.Image, PageText | None, float]]:
    """Every page of a PDF rendered, read from its text layer when it has a usable one (None: read its picture),
    and the milliseconds that took. Meant to run confined (``parsers.imaging.read_pdf_confined``)."""
    images = render_pdf(data)
    layers = pdf_layers(data, len(images), filename)
    try:
        pages = []
        for index, image in enumerate(images):
            started = time.perf_counter()
            page = text_layer_or_none(layers[index], image, index + 1, filename) if layers else None
            pages.append((image, page, (time.perf_counter() - started) * 1000))
        return pages
    finally:
        if layers:
            close_pdf(layers[0].pdf)


def pdf_layers(data: bytes, count: int, filename: str | None) -> list[Any] | None:
    """The PDF's pages as pdfplumber sees them, or None when it cannot read them (the pictures are read)."""
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # PDFium rendered what pdfminer cannot parse
        log.info("text layer of %s unreadable (%s: %s): its pages are read by OCR", filename, type(exc).__name__,
                 exc)
        return None
    try:
        pages = list(pdf.pages)
    except Exception as exc:
        log.info("page tree of %s unreadable to pdfplumber (%s): its pages are read by OCR", filename, exc)
        close_pdf(pdf)
        return None
    if len(pages) != count:
        log.info("pdfplumber finds %d pages in %s, PDFium %d: its pages are read by OCR", len(pages), filename,
                 count)
        close_pdf(pdf)
        return None
    return pages


def close_pdf(pdf: Any) -> None:
    """Close what ``pdf_layers`` opened, even a PDF pdfplumber could not read."""
    try:
        pdf.close()  # it goes through the pages again: what could not be read fails again
    except Exception:
        log.debug("closing a PDF pdfplumber could not read", exc_info=True)
        pdf.stream.close()


def text_layer_or_none(page: Any, image: Image.Image, number: int, filename: str | None) -> PageText | None:
    """The page from its text layer; None when the picture is to be read, or pdfminer fails on the page
    (a broken content stream PDFium could render, a recursion in its objects)."""
    try:
        return _text_layer(page, image, number)
    except Exception as exc:
        log.info("page %d of %s: text layer unreadable (%s: %s), read by OCR", number, filename,
                 type(exc).__name__, exc)
        return None


def _usable(text: str) -> bool:
    if text.startswith("(cid:") or text == "\ufffd":
        return False  # a glyph without Unicode: only the picture says what it is
    return all(unicodedata.category(ch) not in ("Cc", "Co", "Cs", "Cn") for ch in text)


def _text_layer(page: Any, image: Image.Image, number: int) -> PageText | None:
    """The page read from its text layer, or None when its picture is to be read instead."""
    x_off, y_off, right, bottom = (float(v) for v in page.bbox)
    width_pt, height_pt = right - x_off, bottom - y_off
    scale = MM_PER_INCH / PT_PER_INCH
    chars = [c for c in page.chars if str(c.get("text", "")).strip()]
    usable = [c for c in chars if c.get("upright", True) and _usable(str(c["text"]))]
    if not usable or len(usable) < len(chars) / 2:
        return None  # no text, glyph numbers, or text running sideways: the picture is read
    pictured = sum(max(0.0, (float(i["x1"]) - float(i["x0"])) * (float(i["bottom"]) - float(i["top"])))
                   for i in page.images)
    if pictured >= 0.5 * width_pt * height_pt and len(usable) < MIN_TEXT_CHARS:
        return None  # a scan with a line of text stamped on it (a fax gateway's header): the scan is the page
    pieces = []
    for c in usable:
        x0, x1 = float(c["x0"]) - x_off, float(c["x1"]) - x_off
        top, bot = float(c["top"]) - y_off, float(c["bottom"]) - y_off
        if x1 > 0 and x0 < width_pt and bot > 0 and top < height_pt:
            em = float(c.get("size") or 0.0) or max(bot - top, 1e-3)
            pieces.append(Piece(unicodedata.normalize("NFC", str(c["text"])), x0, top, x1, bot, em))
    rules = pdf_rules(page, x_off, y_off, scale)
    runs = join_runs(pieces, vertical_lines(rules, 1 / scale), SPLIT_EM)
    texts: list[WordReading] = [(_run_text(run), 1.0, (), ()) for run in runs]
    gray = image if image.mode == "L" else image.convert("L")
    dpi = float(image.info.get("dpi", (RENDER_DPI, RENDER_DPI))[0])
    return PageText(number=number, width_mm=round(width_pt * scale, 2), height_mm=round(height_pt * scale, 2),
                    words=page_words(runs, texts, scale), rules=tuple(rules), source="text", image=gray, dpi=dpi,
                    rotation=0, skew=0.0, ms=0.0)


def _run_text(run: Run) -> str:
    return unicodedata.normalize("NFC", join_spaced(((p.text, p.x0, p.x1) for p in run.pieces), SPACE_EM * run.em))
