"""What reading one message may cost: the limits every parser keeps, and the time it has left.

    Limits            the bounds: bytes once inflated, pixels, pages, MIME parts and depth, header
                      size, OCR seconds per page, reading seconds per message, a PDF reader's time and
                      memory (the gateway makes it from TORII_MAX_*; the defaults are for one machine)
    reading(limits)   the limits in force, and the clock of the message's reading time, for a block
    current()         the limits in force (the defaults outside ``reading``)
    page(n)           the OCR time of page n runs from here (``count`` pages read together get as many)
    capped(seconds)   a subprocess's timeout, cut to the time the page and the message have left
    check_time()      raises ``TooLarge`` when the page's or the message's time is spent

An input over a limit raises ``parsers.errors.TooLarge`` ("too large: ..."); ``parse_mail``, which never
raises, says it in ``ParsedMail.too_large`` instead.

The limits and the time left are context variables: each worker thread reads its own message, and
a reader deep down (a Tesseract call inside a form reader) keeps them without their being passed
through every signature. Time here is elapsed time (``time.monotonic``), never business time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from parsers.errors import TooLarge

__all__ = ["MIB", "Limits", "TooLarge", "reading", "current", "page", "capped", "check_time", "time_left", "mib"]

MIB = 1024 * 1024


def mib(size: int) -> str:
    """``size`` bytes as a whole number of MiB (or KiB below one MiB), for reasons."""
    return f"{size // MIB} MiB" if size >= MIB else f"{size // 1024} KiB"


@dataclass(frozen=True)
class Limits:
    # Bytes a PDF page's content streams (or any one other stream) may inflate to, and all of a PDF's streams
    # together: PDFium and pdfminer hold what they inflate, so this is their memory.
    inflated_bytes: int = 64 * MIB
    inflated_total_bytes: int = 256 * MIB
    # Pixels of a page as rendered or decoded (A3 at 300 dpi is 17.4 Mpx; a fax page at 200×200 dpi
    # about 3.9 Mpx), and of an image embedded in a PDF page, decoded whole before it is scaled
    # (A3 at 600 dpi is 70 Mpx).
    page_pixels: int = 30_000_000
    image_pixels: int = 100_000_000
    pages: int = 50
    # Real mail stays under 10 levels and a few dozen parts; bombs go to thousands.
    mime_parts: int = 2000
    mime_depth: int = 30
    # The header block of a mail (a long Received chain and DKIM signatures stay under 64 KiB).
    header_bytes: int = 256 * 1024
    # Seconds of OCR a page may take (Tesseract's processes, cut when it is spent), and all the reading of
    # one message (MIME, PDFs, OCR) together.
    ocr_page_seconds: float = 60.0
    reading_seconds: float = 180.0
    # One PDF is read (rendered, its text layer taken) by a child process of its own, which gets this long
    # and this much memory beyond what it starts with; a PDF that needs more is too large.
    pdf_seconds: float = 30.0
    pdf_memory_bytes: int = 1024 * MIB


@dataclass(frozen=True)
class _Clock:
    """Deadlines on ``time.monotonic``: the message's reading, and the page being read (None: none)."""

    message_deadline: float | None = None
    message_seconds: float = 0.0
    page_deadline: float | None = None
    page_seconds: float = 0.0
    page_what: str = ""


_DEFAULT = Limits()
_LIMITS: ContextVar[Limits] = ContextVar("torii_reading_limits", default=_DEFAULT)
_UNTIMED = _Clock()
_CLOCK: ContextVar[_Clock] = ContextVar("torii_reading_clock", default=_UNTIMED)


def current() -> Limits:
    return _LIMITS.get()


@contextmanager
def reading(limits: Limits, *, timed: bool = True) -> Iterator[Limits]:
    """``limits`` in force for the block; ``timed``: the message's reading time (``reading_seconds``) runs
    from here."""
    clock = _Clock(time.monotonic() + limits.reading_seconds, limits.reading_seconds) if timed else _Clock()
    limits_token, clock_token = _LIMITS.set(limits), _CLOCK.set(clock)
    try:
        yield limits
    finally:
        _CLOCK.reset(clock_token)
        _LIMITS.reset(limits_token)


@contextmanager
def page(number: int, count: int = 1) -> Iterator[None]:
    """The OCR time of page ``number`` (of ``count`` pages read together, from ``number`` on) runs from here."""
    seconds = current().ocr_page_seconds * count
    what = f"page {number}" if count == 1 else f"pages {number}-{number + count - 1}"
    outer = _CLOCK.get()
    token = _CLOCK.set(_Clock(outer.message_deadline, outer.message_seconds, time.monotonic() + seconds, seconds,
                              what))
    try:
        yield
    finally:
        _CLOCK.reset(token)


def time_left() -> float | None:
    """Seconds the page being read and the message may still take, whichever is less; None: no limit."""
    clock = _CLOCK.get()
    deadlines = [d for d in (clock.message_deadline, clock.page_deadline) if d is not None]
    return min(deadlines) - time.monotonic() if deadlines else None


def capped(seconds: float) -> float:
    """``seconds``, or the time left if that is less (0 when it is spent): a subprocess's timeout."""
    left = time_left()
    return seconds if left is None else max(0.0, min(seconds, left))


def check_time() -> None:
    """Raise ``TooLarge`` naming the limit when the message's or the page's time is spent."""
    clock = _CLOCK.get()
    now = time.monotonic()
    if clock.message_deadline is not None and now >= clock.message_deadline:
        raise TooLarge(f"too large: reading the message took more than {clock.message_seconds:g} s")
    if clock.page_deadline is not None and now >= clock.page_deadline:
        raise TooLarge(f"too large: OCR of {clock.page_what} took more than {clock.page_seconds:g} s")
