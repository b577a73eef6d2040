"""Attempts at processing one inbound message: counted on its row, so that no message is stuck in ``received``.

A worker that dies in the middle of a message (out of memory, kill -9, a crash in a
library) commits nothing: the message stays ``received``, and Redis or the sweep give it
to a worker again. Each attempt is claimed on the row before the slow part begins:

    claim(db, settings, id)   a Claim (the raw bytes and envelope), None (done already), or the
                              Outcome ``failed`` when it was begun ``inbound_max_attempts`` times
                              already and never ended
    held(db, settings, id)    while the block runs, the row is touched every third of the sweep's
                              grace: the attempt is alive
    release(db, id)           the attempt ended without dying (the database failed): it does not count

A task given to a worker is a new attempt: Redis gives a dead worker's tasks to another only once
its heartbeat has stopped, and the sweep enqueues only messages untouched for its grace
(``TORII_SWEEP_GRACE``), which a live attempt never is. An attempt stops touching the row once it has
run for the whole reading time and the grace on top: one stuck that long counts as dead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from workflows import clock
from workflows.config import Settings
from workflows.db import Database
from workflows.inbound.step import Outcome
from workflows.models import InboundMessage, InboundStatus, RawBlob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    raw: bytes
    mail_from: str | None
    rcpt_tos: list[str]
    received_at: datetime
    attempt: int


def claim(db: Database, settings: Settings, inbound_id: int) -> Claim | Outcome | None:
    """Begin an attempt at the message, or say why not (see the module's docstring)."""
    with db.transaction() as session:
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None:
            log.warning("process: inbound %s does not exist", inbound_id)
            return None
        if row.status != InboundStatus.RECEIVED:
            return None
        now = clock.now()
        if row.attempts >= settings.inbound_max_attempts:
            reason = f"worker died {row.attempts} times while processing it"
            log.error("process: inbound %s: %s; failed", inbound_id, reason)
            row.status, row.kind, row.reason = InboundStatus.FAILED, row.kind or "unknown", reason
            return Outcome(InboundStatus.FAILED, row.kind, reason, row.object_type, row.object_id,
                           latency=(now - row.received_at).total_seconds())
        row.attempts += 1
        row.attempted_at = now
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None
        if row.attempts > 1:
            log.warning("process: inbound %s: attempt %d (the one before did not end)", inbound_id, row.attempts)
        return Claim(blob.data, row.mail_from, list(row.rcpt_tos), row.received_at, row.attempts)


@contextmanager
def held(db: Database, settings: Settings, inbound_id: int) -> Iterator[None]:
    """The message's row touched every third of the sweep's grace while the block runs (see the module)."""
    interval = max(settings.sweep_grace / 3, 0.1)
    give_up = time.monotonic() + settings.limits.reading_seconds + settings.sweep_grace
    done = threading.Event()

    def touch() -> None:
        while not done.wait(interval) and time.monotonic() < give_up:
            try:
                with db.transaction(patience=interval) as session:
                    session.execute(update(InboundMessage)
                                    .where(InboundMessage.id == inbound_id,
                                           InboundMessage.status == InboundStatus.RECEIVED)
                                    .values(attempted_at=clock.now()))
            except SQLAlchemyError:  # the database is failing: the attempt will say so when it stores
                log.debug("process: inbound %s: could not touch its row", inbound_id, exc_info=True)

    toucher = threading.Thread(target=touch, name=f"torii-attempt-{inbound_id}", daemon=True)
    toucher.start()
    try:
        yield
    finally:
        done.set()
        toucher.join(interval + 5)


def release(db: Database, inbound_id: int) -> None:
    """The attempt ended alive but stored nothing (the database failed): it neither counts nor holds the message.

    Best effort: when the database is still failing, the lease runs out and the attempt counts.
    """
    try:
        with db.transaction() as session:
            row = session.get(InboundMessage, inbound_id, with_for_update=True)
            if row is not None and row.status == InboundStatus.RECEIVED and row.attempts > 0:
                row.attempts -= 1
                row.attempted_at = None
    except SQLAlchemyError:
        log.warning("process: inbound %s: attempt not released (the database is failing)", inbound_id)
