"""A fax file given by hand (``torii ingest order.pdf``), as the mail a fax-to-email service would deliver.

A PDF or TIFF rather than a mail is wrapped in a mail to the fax-order address, so it
takes the same path as a delivery; its bytes are attached unchanged.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from parsers.fax_sender import fax_file_type
from workflows import clock
from workflows.config import Settings


def wrap_file(data: bytes, filename: str, settings: Settings, *, sender_fax: str | None = None) -> bytes:
    """A PDF or TIFF given by hand, as the mail a fax service would have delivered (bytes attached unchanged)."""
    kind = fax_file_type(data)
    if kind is None:
        raise ValueError(f"{filename}: not a PDF or TIFF")
    message = EmailMessage()
    message["From"] = f"torii-ingest@{settings.mail_domain}"
    message["To"] = settings.fax_order_address
    message["Subject"] = f"FAX file {Path(filename).name}"
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=settings.mail_domain)
    if sender_fax:
        message["X-Fax-From"] = sender_fax
    message.set_content(f"Ingested from {Path(filename).name}\n")
    message.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=Path(filename).name)
    return message.as_bytes()
