"""Durable intake: every inbound item is stored and committed before anyone is told it arrived.

SMTP, IMAP and files all come through ``store``: the raw bytes (once per
content hash) and a row with the envelope and a few headers, in one
transaction. Only after the commit is the item acknowledged and a processing
task enqueued; if the enqueue is lost, the sweep finds the row again. A database
that cannot commit (unavailable, full, locked for longer than ``patience``) is an
``IntakeError``: nothing is acknowledged, the sender tries again later.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from parsers.mime.encoded_words import decode_header_value
from workflows.db import PATIENCE, Database, after_commit
from workflows.errors import IntakeError
from workflows.models import InboundMessage, RawBlob

log = logging.getLogger(__name__)

# Headers added on the way (by relays, by a second delivery) that do not make a message different.
_TRACE_HEADERS = re.compile(rb"^(received|return-path|delivered-to|x-original-to|x-received)\s*:", re.I)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MAX_HEADER_TEXT = 64 * 1024
# The summary needs a few headers; the stdlib takes seconds on a header of megabytes (a header bomb), which
# the pipeline refuses anyway (parsers.limits).
_MAX_HEADER_PARSE = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    id: int
    created: bool  # False: the same message was already stored; nothing new was written


def split_header(raw: bytes) -> tuple[bytes, bytes]:
    match = _HEADER_END.search(raw)
    if match is None:
        return raw, b""
    return raw[: match.start()], raw[match.end():]


def dedup_key(raw: bytes) -> str:
    """Hash of the message without trace headers and with line endings unified.

    The same message delivered twice (by a retrying client, by two MX hosts) differs only
    in its Received lines, so it gets the same key.
    """
    head, body = split_header(raw.replace(b"\r\n", b"\n"))
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = bool(_TRACE_HEADERS.match(line))
        if not skipping:
            kept.append(line)
    digest = hashlib.sha256()
    digest.update(b"\n".join(kept))
    digest.update(b"\n\n")
    digest.update(body)
    return digest.hexdigest()


def _header_summary(raw: bytes) -> tuple[str | None, str | None, str | None, str]:
    head, _ = split_header(raw)
    if len(head) > _MAX_HEADER_PARSE:
        head = head[:head.rfind(b"\n", 0, _MAX_HEADER_PARSE) + 1 or _MAX_HEADER_PARSE]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\n\n")

    def value(name: str) -> str | None:
        found = headers.get(name)
        if found is None:
            return None
        text, _defects = decode_header_value(str(found))
        return text.strip()[:998]

    message_id = value("Message-ID")
    if message_id:
        message_id = message_id.strip().strip("<>").strip() or None
    header_text, _ = decode_header_value(head[:_MAX_HEADER_TEXT])
    return message_id, value("From"), value("Subject"), header_text


def store(
    db: Database,
    raw: bytes,
    *,
    channel: str,
    mail_from: str | None,
    rcpt_tos: Sequence[str],
    peer: str | None = None,
    enqueue: Callable[[int], None] | None = None,
    patience: float = PATIENCE,
) -> Stored:
    """Store one inbound item durably; raises IntakeError if it could not be committed (within ``patience``
    seconds of waiting for the database)."""
    sha = hashlib.sha256(raw).hexdigest()
    key = dedup_key(raw)
    try:
        message_id, from_addr, subject, header_text = _header_summary(raw)
    except Exception:  # headers too broken to summarise: keep the bytes anyway
        log.warning("intake: headers of a %d-byte %s message could not be read", len(raw), channel)
        message_id, from_addr, subject, header_text = None, None, None, ""
    for attempt in (1, 2):
        try:
            with db.transaction(patience) as session:
                existing = session.scalar(select(InboundMessage.id).where(InboundMessage.dedup_key == key))
                if existing is not None:
                    log.info("intake: duplicate of inbound %s (message-id %s)", existing, message_id)
                    return Stored(existing, created=False)
                if session.get(RawBlob, sha) is None:
                    session.add(RawBlob(sha256=sha, size=len(raw), data=raw))
                    session.flush()  # the row below refers to it
                row = InboundMessage(
                    channel=channel,
                    peer=peer,
                    mail_from=mail_from,
                    rcpt_tos=[r.lower() for r in rcpt_tos],
                    message_id=message_id,
                    from_addr=from_addr,
                    subject=subject,
                    headers=header_text,
                    size=len(raw),
                    sha256=sha,
                    dedup_key=key,
                )
                session.add(row)
                session.flush()
                stored = Stored(row.id, created=True)
                if enqueue is not None:
                    after_commit(session, functools.partial(enqueue, stored.id))
            log.info("intake: stored inbound %s (%d bytes, message-id %s)", stored.id, len(raw), message_id)
            return stored
        except IntegrityError as exc:
            # Another connection stored the same message or blob between our check and insert.
            if attempt == 2:
                raise IntakeError(f"could not store message: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise IntakeError(f"could not store message: {exc}") from exc
    raise AssertionError("unreachable")
