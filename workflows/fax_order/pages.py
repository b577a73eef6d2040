"""Reading a fax delivery, before anything is looked up: slow (OCR), so outside the message's transaction.

The pages of every attachment; on a page that carries the gateway's own form code,
the form's fields by position, else every page's words (text layer or OCR) and the
free-form reading of them. Each page also gets a picture of its ink
(``page_hash``), which is how a sheet faxed again is known by its look.
An attachment over a reading limit (``parsers.limits``) makes no fax order: ``TooLarge`` goes up
to the pipeline, and the message to review with it.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from PIL import Image

from parsers import limits
from parsers.errors import TooLarge
from parsers.fax_sender import FaxSender, fax_file_type, fax_sender, load_services
from parsers.faxorder.reader import read_free_form
from parsers.faxorder.readings import FreeFormReading
from parsers.imaging import UnreadablePage, pages_from_attachment
from parsers.mime.parsed_mail import ParsedMail
from workflows import clock, observe
from workflows.config import Settings
from workflows.order_documents.fax_forms import buyer_fax_form

PAGE_TYPES = ("application/pdf", "image/")
MAX_PAGES_KEPT = 50


@dataclass(frozen=True)
class PageImage:
    number: int
    width_mm: float
    height_mm: float
    png: bytes
    source: str  # "text", "ocr" or "form"
    ms: float = 0.0


@dataclass(frozen=True)
class FaxPages:
    """What one fax delivery says, before anything is looked up."""

    sender: FaxSender
    received_on: date
    pages: tuple[PageImage, ...] = ()
    page_hashes: tuple[str, ...] = ()
    form: Any | None = None  # a BuyerFormReading (the gateway's own form) when a page carried its code
    free: FreeFormReading | None = None
    problems: tuple[str, ...] = ()  # attachments that could not be read, and why


FormFor = Callable[[int], Any]


def read_delivery(mail: ParsedMail, settings: Settings, received_at: datetime,
                  form_for: FormFor | None = None) -> FaxPages:
    """Every page of every fax attachment, read; bad attachments become problems, never exceptions."""
    from parsers.pagetext.document import read_document  # OCR and OpenCV: only processes that read faxes load them

    sender = fax_sender(mail, load_services(settings.fax_services_file))
    received_on = clock.day_of(received_at)
    problems: list[str] = []
    attachments = [a for a in mail.attachments if a.content_type.startswith(PAGE_TYPES)
                   or (a.content_type == "application/octet-stream" and fax_file_type(a.data) is not None)]
    if not attachments:
        return FaxPages(sender, received_on, problems=("the delivery has no PDF or TIFF attachment",))
    images: list[Image.Image] = []
    readable = []
    for attachment in attachments:
        name = attachment.filename or attachment.content_type
        try:
            found = pages_from_attachment(attachment.data, attachment.content_type, attachment.filename)
        except TooLarge as exc:
            raise TooLarge(f"{exc.reason} ({name})") from exc
        except UnreadablePage as exc:
            problems.append(f"{name}: unparseable: {exc.reason}")
            continue
        if len(images) + len(found) > MAX_PAGES_KEPT:
            problems.append(f"{name}: unparseable: more than {MAX_PAGES_KEPT} pages in one fax")
            continue
        images += found
        readable.append(attachment)
    if not images:
        return FaxPages(sender, received_on, problems=tuple(problems))
    started = time.perf_counter()
    with limits.page(1, len(images)):  # the form reader reads the pages together
        form = _read_form(images, settings, form_for, received_on) if form_for is not None else None
        limits.check_time()
    if form is not None:
        share = (time.perf_counter() - started) / len(images)  # the form reader reads the pages together
        for _image in images:
            observe.page_read("form", share)
        pages = tuple(PageImage(n, *_size_mm(image), _png(image), "form") for n, image in enumerate(images, 1))
        return FaxPages(sender, received_on, pages, tuple(page_hash(image) for image in images), form,
                        problems=tuple(problems))
    texts: list[Any] = []
    for attachment in readable:
        try:
            texts += read_document(attachment.data, attachment.content_type, attachment.filename)
        except TooLarge as exc:
            raise TooLarge(f"{exc.reason} ({attachment.filename or attachment.content_type})") from exc
        except UnreadablePage as exc:
            problems.append(f"{attachment.filename or attachment.content_type}: unparseable: {exc.reason}")
    for number, text in enumerate(texts, 1):
        text.number = number  # numbered across attachments, as the fax's pages
        observe.page_read(text.source, text.ms / 1000)
    free = read_free_form(texts, received_on) if texts else None
    pages = tuple(PageImage(t.number, t.width_mm, t.height_mm, _png(t.image), t.source, t.ms) for t in texts)
    return FaxPages(sender, received_on, pages, tuple(page_hash(t.image) for t in texts), None, free,
                    tuple(problems))


def _read_form(images: Sequence[Image.Image], settings: Settings, form_for: FormFor,
               received_on: date) -> Any | None:
    from parsers.buyerform import read_buyer_form

    return read_buyer_form(images, buyer_fax_form(settings.secret_key), form_for, received_on=received_on)


def _size_mm(image: Image.Image) -> tuple[float, float]:
    dpi = float(image.info.get("dpi", (200, 200))[0]) or 200.0
    return image.width * 25.4 / dpi, image.height * 25.4 / dpi


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, "PNG", optimize=True)
    return out.getvalue()


def page_hash(image: Image.Image) -> str:
    """A 256-bit picture of the page's ink: the same sheet faxed twice gives nearly the same bits.

    The ink's bounding box is cut out first, so the sheet lying a few millimetres
    elsewhere on the glass does not matter; 16×16 cells of it are dark or not.
    """
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    ink = gray < 128
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return "0" * 64
    crop = Image.fromarray(gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]).resize((16, 16), Image.Resampling.BOX)
    cells = np.asarray(crop, dtype=np.float64).ravel()
    bits = cells < np.median(cells)
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"
