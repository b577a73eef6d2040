"""ParsedMail and Attachment: what parse_mail gives the rest of Torii, whatever the mail looked like."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Attachment", "ParsedMail", "header_values", "first_header"]


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_addr: str | None
    from_name: str
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]
    # Set when the mail is over a limit (parsers.limits: header size, MIME parts, nesting): "too large: ...".
    # What could be read cheaply (the headers) is here; the rest was not read, and the mail goes to review.
    too_large: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        return first_header(self.headers, name)

    def recipients(self, envelope: Sequence[str]) -> list[str]:
        """Who the mail was delivered to, lower case: the envelope's recipients, or To/Cc when there is no
        envelope (files, IMAP)."""
        return [a.strip().lower() for a in (list(envelope) or [*self.to_addrs, *self.cc_addrs])]

    def header_all(self, name: str) -> tuple[str, ...]:
        return header_values(self.headers, name)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> tuple[str, ...]:
    """Every value of header ``name`` (any case), in order."""
    wanted = name.lower()
    return tuple(value for key, value in headers if key.lower() == wanted)


def first_header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (any case), or None."""
    return next(iter(header_values(headers, name)), None)
