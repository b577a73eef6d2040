"""The parsers' exceptions, one tree of their own: the parsers know nothing of the gateway.

    ParserError
     ├── UnreadablePage   an attachment gives no page images (parsers.imaging)
     ├── OcrError         the OCR engine is missing or failed (parsers.faxform)
     └── OcrFailed        the temporary ID could not be read at all (parsers.credential_ocr)

Callers catch these where a reading ends, store the reason on the message and keep it for review.
"""

from __future__ import annotations


class ParserError(Exception):
    """Root of every error a parser raises on purpose; ``str(exc)`` is a reason an operator can read."""
