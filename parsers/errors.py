"""The parsers' exceptions, one tree of their own: the parsers know nothing of the gateway.

    ParserError
     ├── UnreadablePage   an attachment gives no page images (parsers.imaging)
     │    └── TooLarge    an input is over one of the reading limits (parsers.limits): "too large: ..."
     ├── OcrError         the OCR engine is missing or failed (parsers.faxform)
     └── OcrFailed        the temporary ID could not be read at all (parsers.credential_ocr)

Callers catch these where a reading ends, store the reason on the message and keep it for review.
``TooLarge`` is an ``UnreadablePage`` so that a reader promising "UnreadablePage and nothing else"
still keeps its word; the workflows let it through to the message, which goes to review with it.
"""

from __future__ import annotations


class ParserError(Exception):
    """Root of every error a parser raises on purpose; ``str(exc)`` is a reason an operator can read."""


class UnreadablePage(ParserError):
    """Raised when an attachment gives no page images; ``reason`` says why, for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(UnreadablePage):
    """Raised when an input is over a reading limit (bytes once inflated, pixels, pages, reading time, memory);
    ``reason`` starts with "too large: " and names the limit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason if reason.startswith("too large: ") else f"too large: {reason}")
