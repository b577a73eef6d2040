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
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from parsers.mime.encoded_words import decode_header_value
from workflows.db import PATIENCE, Database, after_commit
from workflows.errors import IntakeError
from workflows.models import InboundMessage, RawBlob

log = logging.getLogger(__name__)

# Headers added on the way (by relays, by a second delivery) that do not make a message different.
_TRACE_HEADERS = re.compile(rb"^(received|return-path|delivered-to|x-original-to|x-received)\s*:", re.I)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MAX_HEADER_TEXT = 64 * 1024
# The summary needs three headers, found by one pattern rather than by parsing the whole header (a tenth of
# the time, and a header bomb of megabytes, which the pipeline refuses anyway, costs no more than its first MiB).
_SUMMARY_HEADER = re.compile(rb"^(message-id|from|subject)[ \t]*:((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)", re.I | re.M)
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


def _header_summary(raw: bytes) -> tuple[str | None, str | None, str | None]:
    """Message-ID, From and Subject: the first of each, unfolded and decoded; None where there is none."""
    head, _ = split_header(raw)
    found: dict[bytes, bytes] = {}
    for match in _SUMMARY_HEADER.finditer(head, 0, _MAX_HEADER_PARSE):
        found.setdefault(match.group(1).lower(), match.group(2))

    def value(name: bytes) -> str | None:
        if name not in found:
            return None
        text, _defects = decode_header_value(found[name])
        return text.strip()[:998]

    message_id = value(b"message-id")
    if message_id:
        message_id = message_id.strip().strip("<>").strip() or None
    return message_id, value(b"from"), value(b"subject")


def header_text(raw: bytes) -> str:
    """The message's header as text (encoded words and 8-bit bytes decoded, folds joined), the first 64 KiB."""
    return decode_header_value(split_header(raw)[0][:_MAX_HEADER_TEXT])[0]


@dataclass(frozen=True)
class Arrival:
    """An inbound item as it came: its bytes and envelope."""

    raw: bytes
    channel: str
    mail_from: str | None
    rcpt_tos: Sequence[str]
    peer: str | None = None


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
    return store_many(db, [Arrival(raw, channel, mail_from, rcpt_tos, peer)], enqueue=enqueue, patience=patience)[0]


def store_many(db: Database, arrivals: Sequence[Arrival], *, enqueue: Callable[[int], None] | None = None,
               patience: float = PATIENCE) -> list[Stored]:
    """Store items that arrived together in one transaction (one commit, one disk flush, for them all),
    each ``Stored`` in the order given; IntakeError if the transaction could not be committed: then none is.

    An item the same as an earlier one (stored before, or earlier in ``arrivals``) gets that one's id.
    """
    columns = [_columns(arrival) for arrival in arrivals]
    for attempt in (1, 2):
        try:
            with db.transaction(patience) as session:
                stored = _insert(session, columns, arrivals)
                if enqueue is not None:
                    for one in stored:
                        if one.created:
                            after_commit(session, functools.partial(enqueue, one.id))
            for one, values in zip(stored, columns, strict=True):
                log.info("intake: %s inbound %s (%d bytes, message-id %s)", "stored" if one.created else
                         "duplicate of", one.id, values["size"], values["message_id"])
            return stored
        except IntegrityError as exc:
            # Another connection stored the same message or blob between our check and insert.
            if attempt == 2:
                raise IntakeError(f"could not store message: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise IntakeError(f"could not store message: {exc}") from exc
    raise AssertionError("unreachable")


def _columns(arrival: Arrival) -> dict[str, Any]:
    """The row of an arrival; what it takes to make is done before the transaction."""
    raw = arrival.raw
    try:
        message_id, from_addr, subject = _header_summary(raw)
    except Exception:  # headers too broken to summarise: keep the bytes anyway
        log.warning("intake: headers of a %d-byte %s message could not be read", len(raw), arrival.channel)
        message_id, from_addr, subject = None, None, None
    return {"channel": arrival.channel, "peer": arrival.peer, "mail_from": arrival.mail_from,
            "rcpt_tos": [r.lower() for r in arrival.rcpt_tos], "message_id": message_id, "from_addr": from_addr,
            "subject": subject, "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(), "dedup_key": dedup_key(raw)}


def _insert(session: Session, columns: Sequence[dict[str, Any]], arrivals: Sequence[Arrival]) -> list[Stored]:
    """Two lookups and two multi-row inserts for the lot, in the ORM's bulk form (no object per row)."""
    known = {key: id_ for key, id_ in session.execute(
        select(InboundMessage.dedup_key, InboundMessage.id)
        .where(InboundMessage.dedup_key.in_({values["dedup_key"] for values in columns})))}
    blobs = set(session.scalars(select(RawBlob.sha256)
                                .where(RawBlob.sha256.in_({values["sha256"] for values in columns}))))
    new_blobs: list[dict[str, Any]] = []
    new_rows: dict[str, dict[str, Any]] = {}
    for values, arrival in zip(columns, arrivals, strict=True):
        if values["dedup_key"] in known or values["dedup_key"] in new_rows:
            continue
        if values["sha256"] not in blobs:
            blobs.add(values["sha256"])
            new_blobs.append({"sha256": values["sha256"], "size": len(arrival.raw), "data": arrival.raw})
        new_rows[values["dedup_key"]] = values
    if new_blobs:  # the blobs first: the rows refer to them
        session.execute(insert(RawBlob), new_blobs)
    if new_rows:
        ids = session.scalars(insert(InboundMessage).returning(InboundMessage.id, sort_by_parameter_order=True),
                              list(new_rows.values())).all()
        created = dict(zip(new_rows, ids, strict=True))
    else:
        created = {}
    stored = []
    for values in columns:
        key = values["dedup_key"]
        if key in created:
            stored.append(Stored(created.pop(key), created=True))
            known[key] = stored[-1].id
        else:
            stored.append(Stored(known[key], created=False))
    return stored
