"""The IMAP poller: takes in the mail of one mailbox, and why a crash anywhere neither loses nor doubles it.

1. NOOP, then SEARCH for what is not marked processed and has a UID above the cursor;
2. FETCH ``BODY.PEEK[]`` (which leaves ``\\Seen`` alone), 50 messages at a time;
3. ``intake.store`` with ``channel="imap"``, ``peer="imap:NAME"``, no envelope (``mail_from=None``:
   the parsers read Return-Path; ``rcpt_tos=[]``: they read To and Cc): the raw bytes and a row are
   committed, and a task enqueued;
4. only then mark it processed (``gateway.imap.session``);
5. move the cursor (``gateway.imap.cursor``).

A crash between 3 and 4 leaves the message unmarked; the next poll fetches it again, the store
recognises the same content (``created=False``, nothing new written or enqueued) and the message
is marked then. A message that cannot be stored (``IntakeError``) stays unmarked and is tried again
at the next poll; the messages after it are not held up.

The poller works only while it holds the mailbox's lease (``gateway.imap.lease``). With IDLE (when
the server offers it) a poll follows every EXISTS, and a full poll every idle_timeout in any case;
without it, a poll every poll_interval. Network errors, server restarts, an untagged BYE, NO or BAD
and a Redis outage end the session; the poller reconnects after a backoff (0.5 s doubling to 60 s,
with jitter), checks UIDVALIDITY again, and never lets an error end its thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import redis
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError

from gateway import intake
from gateway.imap import session as imap_session
from gateway.imap.backoff import Backoff
from gateway.imap.config import MailboxConfig
from gateway.imap.cursor import Cursor
from gateway.imap.lease import RedisLease
from gateway.imap.session import CONNECTION_ERRORS, Session
from workflows.db import Database
from workflows.errors import IntakeError

log = logging.getLogger(__name__)


class _LeaseLost(Exception):
    """Another poller holds the mailbox now; this one stops working on it."""



@dataclass
class PollResult:
    marked: int = 0  # messages marked processed (new or found already stored)
    stored: int = 0  # of which newly stored
    failed: int = 0  # left unmarked: could not be stored, tried again next time


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class ImapPoller:
    """Takes in the mail of one mailbox: ``run`` for the loop, ``poll_once`` for one round.

    ``enqueue`` is called with the id of each newly stored message once it is committed
    (``Runtime.enqueue_inbound``). One poller object is used by one thread.
    """

    def __init__(
        self,
        config: MailboxConfig,
        db: Database,
        enqueue: Callable[[int], None] | None,
        redis_client: redis.Redis,
        prefix: str,
        *,
        lease_ttl: float = 30.0,
        batch_size: int = 50,
        timeout: float = 60.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.enqueue = enqueue
        self.lease = RedisLease(redis_client, f"{prefix}:imap-lock:{config.name}", lease_ttl)
        self.cursor = Cursor(redis_client, f"{prefix}:imap-cursor:{config.name}", config.name)
        self.batch_size = batch_size
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.client: IMAPClient | None = None
        self.session: Session | None = None
        self.store_backoff = Backoff(1.0, 60.0)

    @property
    def name(self) -> str:
        return self.config.name

    # -- the loop ------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set: wait for the lease, connect, poll, idle or sleep, repeat."""
        waiting_logged = False
        try:
            while not stop.is_set():
                try:
                    if not self.lease.acquire():
                        if not waiting_logged:
                            log.info("imap %s: another poller holds the mailbox; waiting", self.name)
                            waiting_logged = True
                        stop.wait(self.lease.ttl_ms / 6000)
                        continue
                    waiting_logged = False
                    self._serve(stop)
                except _LeaseLost:
                    log.warning("imap %s: lost the lease to another poller; stepping back", self.name)
                    self._disconnect(graceful=False)
                except CONNECTION_ERRORS as exc:
                    self._retry_later(stop, exc)
                except Exception as exc:  # a bug must not end intake for good
                    log.exception("imap %s: unexpected error", self.name)
                    self._retry_later(stop, exc)
        finally:
            self._disconnect(graceful=True)
            try:
                self.lease.release()
            except redis.RedisError:
                log.warning("imap %s: could not release the lease; it expires by itself", self.name)
            log.info("imap %s: stopped", self.name)

    def _retry_later(self, stop: threading.Event, exc: BaseException) -> None:
        delay = self.backoff.next()
        log.warning("imap %s: %s: %s; reconnecting in %.1f s", self.name, type(exc).__name__, exc, delay)
        self._disconnect(graceful=False)
        stop.wait(delay)

    def _serve(self, stop: threading.Event) -> None:
        """Poll, then wait for news, until stopped; returns only when ``stop`` is set."""
        self._ensure_connected()
        while not stop.is_set():
            result = self._poll(stop)
            if not self.lease.held:
                raise _LeaseLost()
            self.backoff.reset()
            if imap_session.news_arrived(self.client):
                continue  # an EXISTS came with the poll's own commands: mail arrived after the SEARCH
            session = self.session
            assert session is not None
            if result.failed:
                # Storing failed (database down?): try again soon, not only at the next news of mail.
                wait = min(self.config.poll_interval, self.store_backoff.next())
            elif session.idle:
                wait = self.config.idle_timeout
            else:
                wait = self.config.poll_interval
            if not result.failed:
                self.store_backoff.reset()
            deadline = time.monotonic() + wait
            if session.idle and not result.failed:
                self._idle_until(deadline, stop)
            else:
                self._sleep_until(deadline, stop)

    def _sleep_until(self, deadline: float, stop: threading.Event) -> None:
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            stop.wait(min(remaining, self.lease.ttl_ms / 3000))
            self._keep_lease()

    def _idle_until(self, deadline: float, stop: threading.Event) -> None:
        """IDLE until news of mail, the deadline, or ``stop``."""
        client = self._client()
        client.idle()
        if imap_session.news_arrived(self.client):
            client.idle_done()
            return
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            slice_ = min(remaining, 0.5)  # how long a stop may take to be noticed
            started = time.monotonic()
            responses = client.idle_check(timeout=slice_)
            self._keep_lease()
            imap_session.raise_on_trouble(responses)
            if any(imap_session.is_news(r) for r in responses):
                log.debug("imap %s: IDLE: %r", self.name, responses)
                break
            if not responses and time.monotonic() - started < slice_ / 2:
                # Readable but nothing in it: imapclient swallows EOF here. Ending IDLE shows
                # whether the connection is gone (idle_done raises) or it was nothing.
                break
        client.idle_done()

    def _keep_lease(self) -> None:
        if not self.lease.keep():
            raise _LeaseLost()

    # -- one round -----------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Take in what is new; returns how many messages were marked processed.

        Takes the lease for the round if this poller does not hold it; if another poller
        holds it, does nothing and returns 0. Connection errors are raised to the caller.
        """
        taken_here = False
        if not self.lease.held:
            if not self.lease.acquire():
                log.info("imap %s: another poller holds the mailbox; not polling", self.name)
                return 0
            taken_here = True
        try:
            self._ensure_connected()
            return self._poll().marked
        except CONNECTION_ERRORS:
            self._disconnect(graceful=False)  # the next call starts a new session
            raise
        finally:
            if taken_here:
                self.lease.release()

    def _poll(self, stop: threading.Event | None = None) -> PollResult:
        client, session = self._client(), self.session
        assert session is not None
        # A session sees mail delivered by others only once the server has announced it, which
        # Dovecot does at the end of a command: without the NOOP, SEARCH misses the newest mail.
        _, responses = client.noop()
        imap_session.raise_on_trouble(responses)
        imap_session.news_arrived(self.client)  # the SEARCH below covers whatever was announced so far
        cursor = self.cursor.load(session)
        # "n:*" always matches the highest UID, even below n.
        uids = sorted(uid for uid in client.search(imap_session.search_criteria(session, cursor)) if uid > cursor)
        result = PollResult()
        if not uids:
            return result
        log.debug("imap %s: %d message(s) to take in from UID %s", self.name, len(uids), uids[0])
        settled_to = cursor  # every UID up to here is marked (or gone)
        blocked = False  # a message failed: the cursor stays below it
        for batch in _chunks(uids, self.batch_size):
            if stop is not None and stop.is_set():
                break
            if not self.lease.keep():
                break  # another poller has the mailbox now; what is marked so far stays marked
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            stored_uids: list[int] = []
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:  # expunged by someone else since the SEARCH: nothing left to take in
                    ok = True
                elif ok := self._store(uid, raw, result):
                    stored_uids.append(uid)
                blocked = blocked or not ok
                if not blocked:
                    settled_to = uid
            if stored_uids:
                self._mark(stored_uids)
                result.marked += len(stored_uids)
            self.cursor.save(session, settled_to)
        log.info("imap %s: took in %d message(s) (%d new, %d failed)", self.name, result.marked, result.stored,
                 result.failed)
        return result

    def _store(self, uid: int, raw: bytes, result: PollResult) -> bool:
        try:
            stored = intake.store(self.db, bytes(raw), channel="imap", mail_from=None, rcpt_tos=[],
                                  peer=f"imap:{self.name}", enqueue=self.enqueue)
        except IntakeError as exc:
            log.error("imap %s: could not store UID %s; it stays unmarked and is tried again: %s",
                      self.name, uid, exc)
            result.failed += 1
            return False
        except Exception:
            log.exception("imap %s: unexpected error storing UID %s; it stays unmarked", self.name, uid)
            result.failed += 1
            return False
        if stored.created:
            result.stored += 1
        else:
            log.info("imap %s: UID %s was already stored as inbound %s; marking it", self.name, uid, stored.id)
        return True


    def _mark(self, uids: list[int]) -> None:
        """Mark messages processed; called only after they are committed."""
        assert self.session is not None
        imap_session.mark_processed(self._client(), self.session, uids)

    # -- the connection ------------------------------------------------------------------------

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise IMAPClientAbortError("not connected")
        return self.client

    def _ensure_connected(self) -> None:
        if self.client is not None and self.session is not None:
            return
        self._disconnect(graceful=False)
        self.client, self.session = imap_session.connect(self.config, self.timeout)

    def _disconnect(self, *, graceful: bool) -> None:
        client, self.client, self.session = self.client, None, None
        if client is not None:
            imap_session.disconnect(client, self.name, graceful=graceful)

    def close(self) -> None:
        """Log out and give the lease back (for pollers used through ``poll_once``)."""
        self._disconnect(graceful=True)
        self.lease.release()
