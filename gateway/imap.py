"""IMAP intake (imapclient): one poller per configured mailbox, one at a time across all processes.

Mailboxes are configured in ``TORII_IMAP_MAILBOXES``: URLs separated by whitespace::

    imap://USER:PASSWORD@HOST[:PORT][/FOLDER][?KEY=VALUE&...]    STARTTLS unless tls= says otherwise; port 143
    imaps://USER:PASSWORD@HOST[:PORT][/FOLDER][?KEY=VALUE&...]   TLS from the first byte; port 993

    USER, PASSWORD, FOLDER  percent-encoded (``%40`` for ``@``, ``%20`` for a space); FOLDER defaults
                            to INBOX and separates levels with ``/`` whatever the server's delimiter
    name=              what logs, the lock and the cursor call the mailbox (default USER@HOST:PORT/FOLDER);
                       every gateway process must give one mailbox the same name
    tls=               none | starttls | ssl
    ca_file=           verify the server's certificate against this bundle instead of the system's
    processed=         flag (default): add the keyword ``$ToriiProcessed``; move: move to processed_folder
    processed_folder=  default ``Torii/Processed``; created when missing
    idle=              on (default) | off: poll every poll_interval even when the server offers IDLE
    poll_interval=     seconds between polls without IDLE (default 30)
    idle_timeout=      seconds before an IDLE is renewed with a full poll (default 300; at most 25 min)

For example
``imaps://orders%40example.co.jp:s3cret@imap.example.co.jp/INBOX?processed=move&name=orders``.

How one message is taken in, and why a crash anywhere neither loses nor doubles it:

1. NOOP, then SEARCH for what is not marked processed and has a UID above the cursor;
2. FETCH ``BODY.PEEK[]`` (which leaves ``\\Seen`` alone), 50 messages at a time;
3. ``intake.store`` with ``channel="imap"``, ``peer="imap:NAME"``, no envelope (``mail_from=None``:
   the parsers read Return-Path; ``rcpt_tos=[]``: they read To and Cc): the raw bytes and a row are
   committed, and a task enqueued;
4. only then mark it processed: the keyword, or MOVE (COPY, ``\\Deleted``, UID EXPUNGE where the
   server lacks MOVE) to the processed folder;
5. move the cursor.

A crash between 3 and 4 leaves the message unmarked; the next poll fetches it again, the store
recognises the same content (``created=False``, nothing new written or enqueued) and the message
is marked then. (Without MOVE, a crash between COPY and ``\\Deleted`` leaves a second copy in the
processed folder: still one row.) A message that cannot be stored (``IntakeError``) stays unmarked and is tried again
at the next poll; the messages after it are not held up.

The keyword, not ``\\Seen``: a person reading the mailbox in a mail client must not hide mail from
the gateway. On a server that refuses keywords (no ``\\*`` in PERMANENTFLAGS) the poller falls back
to ``\\Seen`` / ``UNSEEN`` and says so in the log.

The cursor (Redis hash ``PREFIX:imap-cursor:NAME``, field FOLDER, value ``UIDVALIDITY:UID``) is a
UID at or below which every message is marked. It only narrows the search: losing it costs a longer
search, never a message. A folder whose UIDVALIDITY changed (recreated, restored from a backup)
gets a fresh cursor, and everything in it not marked processed is read again; what was already
stored is recognised by its content.

Only one poller per mailbox works at a time, whatever the number of gateway processes: it holds
the lease ``PREFIX:imap-lock:NAME`` in Redis (SET NX PX with a random token, renewed every third of
its lifetime, deleted on exit only if it is still ours). The others try again every sixth of the
lifetime; if a holder dies without releasing, its lease expires and another poller takes over. The
lease saves work; it is not what keeps a message single (the store's deduplication is), so a poller
that loses it in the middle of a batch does no harm.

With IDLE (when the server offers it) a poll follows every EXISTS, and a full poll every
idle_timeout in any case; without it, a poll every poll_interval. Network errors, server restarts,
an untagged BYE, NO or BAD (Dovecot's way of saying the folder was replaced under an open session)
and a Redis outage end the session; the poller reconnects after a backoff (0.5 s doubling to 60 s,
with jitter), checks UIDVALIDITY again, and never lets an error end its thread.
"""

from __future__ import annotations

import enum
import logging
import random
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from gateway import intake
from workflows.db import Database
from workflows.errors import IntakeError

log = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$ToriiProcessed"
SEEN = r"\Seen"
DELETED = r"\Deleted"

# RFC 2177: a server may drop a client idling for 30 minutes; renew well before.
MAX_IDLE_SECONDS = 25 * 60.0

# Errors that end a session: the poller reconnects after a backoff.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (IMAPClientError, OSError, socket.timeout, redis.RedisError)


class Tls(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class Processed(enum.StrEnum):
    FLAG = "flag"  # keyword $ToriiProcessed
    MOVE = "move"  # into processed_folder


@dataclass(frozen=True)
class MailboxConfig:
    name: str
    host: str
    port: int
    tls: Tls
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    processed: Processed = Processed.FLAG
    processed_folder: str = "Torii/Processed"
    poll_interval: float = 30.0
    idle_timeout: float = 300.0
    idle: bool = True  # False: poll even when the server offers IDLE
    ca_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tls", Tls(self.tls))
        object.__setattr__(self, "processed", Processed(self.processed))
        if self.poll_interval <= 0 or self.idle_timeout <= 0:
            raise ValueError(f"mailbox {self.name}: poll_interval and idle_timeout must be positive")
        object.__setattr__(self, "idle_timeout", min(self.idle_timeout, MAX_IDLE_SECONDS))
        if not self.name or not self.host or not self.username:
            raise ValueError("a mailbox needs a name, a host and a user")


_URL_KEYS = {"name", "tls", "ca_file", "processed", "processed_folder", "idle", "poll_interval", "idle_timeout"}
_TRUE = {"1", "on", "yes", "true"}
_FALSE = {"0", "off", "no", "false"}


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{parts.username}:***@{netloc[2]}").geturl()


def mailbox_from_url(url: str) -> MailboxConfig:
    """One ``imap://`` or ``imaps://`` URL (see the module docstring); raises ValueError."""
    shown = _redacted(url)
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"IMAP mailbox {shown}: the URL must start with imap:// or imaps://")
    try:
        port_number = parts.port
    except ValueError as exc:
        raise ValueError(f"IMAP mailbox {shown}: {exc}") from exc
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ValueError(f"IMAP mailbox {shown}: user, password and host are required (imap://user:pass@host)")
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _URL_KEYS:
            raise ValueError(f"IMAP mailbox {shown}: unknown parameter {key!r}; known: {', '.join(sorted(_URL_KEYS))}")
        params[key] = value
    tls = Tls.SSL if parts.scheme == "imaps" else Tls.STARTTLS
    if "tls" in params:
        try:
            tls = Tls(params["tls"].lower())
        except ValueError:
            raise ValueError(f"IMAP mailbox {shown}: tls must be none, starttls or ssl") from None
    port = port_number or (993 if tls is Tls.SSL else 143)
    username, password = unquote(parts.username), unquote(parts.password)
    folder = unquote(parts.path.lstrip("/")).strip("/") or "INBOX"
    idle = params.get("idle", "on").lower()
    if idle not in _TRUE | _FALSE:
        raise ValueError(f"IMAP mailbox {shown}: idle must be on or off")
    try:
        processed = Processed(params.get("processed", "flag").lower())
    except ValueError:
        raise ValueError(f"IMAP mailbox {shown}: processed must be flag or move") from None
    try:
        poll_interval = float(params.get("poll_interval", 30.0))
        idle_timeout = float(params.get("idle_timeout", 300.0))
    except ValueError:
        raise ValueError(f"IMAP mailbox {shown}: poll_interval and idle_timeout are seconds") from None
    return MailboxConfig(
        name=params.get("name") or f"{username}@{parts.hostname}:{port}/{folder}",
        host=parts.hostname,
        port=port,
        tls=tls,
        username=username,
        password=password,
        folder=folder,
        processed=processed,
        processed_folder=params.get("processed_folder") or "Torii/Processed",
        poll_interval=poll_interval,
        idle_timeout=idle_timeout,
        idle=idle in _TRUE,
        ca_file=params.get("ca_file") or None,
    )


def mailboxes_from_env(value: str | None) -> list[MailboxConfig]:
    """The mailboxes in ``TORII_IMAP_MAILBOXES`` (none when unset); raises ValueError on a bad entry."""
    configs = [mailbox_from_url(url) for url in (value or "").split()]
    seen: set[str] = set()
    for config in configs:
        if config.name in seen:
            raise ValueError(f"IMAP mailbox name {config.name!r} is used twice; give each a distinct name=")
        seen.add(config.name)
    return configs


class RedisLease:
    """A lock that expires: SET NX PX with a random token; renewed and deleted only by its holder."""

    _RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
              "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end")
    _RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                "return redis.call('del', KEYS[1]) else return 0 end")

    def __init__(self, client: redis.Redis, key: str, ttl: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = max(int(ttl * 1000), 100)
        self.token = uuid.uuid4().hex
        self.held = False
        self._renewed_at = 0.0
        self._renew = client.register_script(self._RENEW)
        self._release = client.register_script(self._RELEASE)

    def acquire(self) -> bool:
        """True if this lease is ours now (newly taken, or still ours)."""
        if self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            self.held = True
            self._renewed_at = time.monotonic()
            return True
        return self.renew()

    def renew(self) -> bool:
        """Extend the lease if it is still ours; False (and not held) if it is not."""
        self.held = bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))
        if self.held:
            self._renewed_at = time.monotonic()
        return self.held

    def keep(self) -> bool:
        """Renew when a third of the lifetime has passed; False if the lease was lost."""
        if not self.held:
            return False
        if time.monotonic() - self._renewed_at < self.ttl_ms / 3000:
            return True
        return self.renew()

    def release(self) -> None:
        if self.held:
            self.held = False
            self._release(keys=[self.key], args=[self.token])


class Backoff:
    """Exponential delays with jitter: 0.5 s, 1 s, 2 s ... up to ``maximum``."""

    def __init__(self, minimum: float = 0.5, maximum: float = 60.0) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.failures = 0

    def next(self) -> float:
        delay = min(self.maximum, self.minimum * 2 ** min(self.failures, 32))
        self.failures += 1
        # Half fixed, half random: pollers that failed together do not come back together.
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.failures = 0


class _LeaseLost(Exception):
    """Another poller holds the mailbox now; this one stops working on it."""


class _MarkMode(enum.Enum):
    KEYWORD = "keyword"
    SEEN = "seen"
    MOVE = "move"


@dataclass(frozen=True)
class _Session:
    """What one connection learnt at login and SELECT."""

    folder: str  # the watched folder, as the server names it
    uidvalidity: int
    mark: _MarkMode
    processed_folder: str | None
    idle: bool
    move: bool
    uidplus: bool


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
        self.redis = redis_client
        self.lease = RedisLease(redis_client, f"{prefix}:imap-lock:{config.name}", lease_ttl)
        self.cursor_key = f"{prefix}:imap-cursor:{config.name}"
        self.batch_size = batch_size
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.client: IMAPClient | None = None
        self.session: _Session | None = None
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
            if self._news_arrived():
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
        if self._news_arrived():
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
            _raise_on_trouble(responses)
            if any(_is_news(r) for r in responses):
                log.debug("imap %s: IDLE: %r", self.name, responses)
                break
            if not responses and time.monotonic() - started < slice_ / 2:
                # Readable but nothing in it: imapclient swallows EOF here. Ending IDLE shows
                # whether the connection is gone (idle_done raises) or it was nothing.
                break
        client.idle_done()

    def _news_arrived(self) -> bool:
        """Whether an EXISTS arrived among the responses to our own commands.

        imaplib files untagged responses away, and an EXISTS seen there is not sent again
        in IDLE; without looking, mail that arrived during a poll would wait for the next one.
        """
        pending = getattr(getattr(self.client, "_imap", None), "untagged_responses", None)
        if not isinstance(pending, dict):
            return False
        pending.pop("RECENT", None)
        return bool(pending.pop("EXISTS", None))

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
        _raise_on_trouble(responses)
        self._news_arrived()  # the SEARCH below covers whatever was announced so far
        cursor = self._load_cursor(session)
        criteria: list[Any] = ["UID", f"{cursor + 1}:*"]
        if session.mark is _MarkMode.KEYWORD:
            criteria += ["UNKEYWORD", PROCESSED_KEYWORD]
        elif session.mark is _MarkMode.SEEN:
            criteria += ["UNSEEN"]
        else:
            criteria += ["NOT", "DELETED"]  # copied already by a COPY-based move cut short before EXPUNGE
        # "n:*" always matches the highest UID, even below n.
        uids = sorted(uid for uid in client.search(criteria) if uid > cursor)
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
            self._save_cursor(session, settled_to)
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
        client, session = self._client(), self.session
        assert session is not None
        if session.mark is _MarkMode.KEYWORD:
            client.add_flags(uids, [PROCESSED_KEYWORD], silent=True)
        elif session.mark is _MarkMode.SEEN:
            client.add_flags(uids, [SEEN], silent=True)
        else:
            assert session.processed_folder is not None
            if session.move:
                client.move(uids, session.processed_folder)
            else:
                client.copy(uids, session.processed_folder)
                client.add_flags(uids, [DELETED], silent=True)
                if session.uidplus:
                    client.uid_expunge(uids)
                else:
                    client.expunge()  # also expunges what others flagged \Deleted: no UIDPLUS, no choice

    # -- the cursor ----------------------------------------------------------------------------

    def _load_cursor(self, session: _Session) -> int:
        value = self.redis.hget(self.cursor_key, session.folder)
        if value is None:
            return 0
        text = value.decode() if isinstance(value, bytes) else str(value)
        uidvalidity, _, uid = text.partition(":")
        if uidvalidity != str(session.uidvalidity):
            log.warning("imap %s: UIDVALIDITY of %s changed from %s to %s; reading every message not marked "
                        "processed again", self.name, session.folder, uidvalidity, session.uidvalidity)
            self.redis.hdel(self.cursor_key, session.folder)
            return 0
        return int(uid)

    def _save_cursor(self, session: _Session, uid: int) -> None:
        if uid > 0:
            self.redis.hset(self.cursor_key, session.folder, f"{session.uidvalidity}:{uid}")

    # -- the connection ------------------------------------------------------------------------

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise IMAPClientAbortError("not connected")
        return self.client

    def _ensure_connected(self) -> None:
        if self.client is not None and self.session is not None:
            return
        self._disconnect(graceful=False)
        config = self.config
        context = None
        if config.tls is not Tls.NONE:
            context = ssl.create_default_context(cafile=config.ca_file)
        client = IMAPClient(config.host, config.port, ssl=config.tls is Tls.SSL, ssl_context=context,
                            timeout=self.timeout)
        self.client = client
        if config.tls is Tls.STARTTLS:
            client.starttls(context)
        client.login(config.username, config.password)
        capabilities = {c.decode().upper() if isinstance(c, bytes) else str(c).upper()
                        for c in client.capabilities()}
        prefix, delimiter = self._personal_namespace(client, capabilities)
        folder = _server_folder(config.folder, prefix, delimiter)
        selected = client.select_folder(folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        permanent = {f.decode() if isinstance(f, bytes) else str(f) for f in selected.get(b"PERMANENTFLAGS", ())}
        processed_folder = None
        if config.processed is Processed.MOVE:
            mark = _MarkMode.MOVE
            processed_folder = _server_folder(config.processed_folder, prefix, delimiter)
            if not client.folder_exists(processed_folder):
                try:
                    client.create_folder(processed_folder)
                    log.info("imap %s: created folder %s", self.name, processed_folder)
                except IMAPClientError:
                    if not client.folder_exists(processed_folder):  # another client created it meanwhile
                        raise
        elif "\\*" in permanent or PROCESSED_KEYWORD in permanent:
            mark = _MarkMode.KEYWORD
        else:
            mark = _MarkMode.SEEN
            log.warning("imap %s: the server keeps no keywords in %s; marking processed mail \\Seen instead, "
                        "so mail a person has read is not taken in", self.name, folder)
        idle = config.idle and "IDLE" in capabilities
        self.session = _Session(folder=folder, uidvalidity=uidvalidity, mark=mark, processed_folder=processed_folder,
                                idle=idle, move="MOVE" in capabilities, uidplus="UIDPLUS" in capabilities)
        log.info("imap %s: connected to %s:%s (%s), folder %s, UIDVALIDITY %s, marking by %s, %s", self.name,
                 config.host, config.port, config.tls.value, folder, uidvalidity, mark.value,
                 "IDLE" if idle else f"polling every {config.poll_interval:g} s")

    @staticmethod
    def _personal_namespace(client: IMAPClient, capabilities: set[str]) -> tuple[str, str | None]:
        if "NAMESPACE" in capabilities:
            personal = client.namespace().personal
            if personal:
                prefix, delimiter = personal[0]
                return str(prefix), (str(delimiter) if delimiter else None)
        listed = client.list_folders("", "")  # LIST "" "" answers with the hierarchy delimiter
        delimiter = listed[0][1] if listed else None
        if isinstance(delimiter, bytes):
            delimiter = delimiter.decode()
        return "", delimiter or None

    def _disconnect(self, *, graceful: bool) -> None:
        client, self.client, self.session = self.client, None, None
        if client is None:
            return
        try:
            if graceful:
                client.logout()
            else:
                client.shutdown()
        except Exception as exc:  # it is going away either way
            log.debug("imap %s: closing the connection: %s", self.name, exc)
            try:
                client.shutdown()
            except Exception:
                pass

    def close(self) -> None:
        """Log out and give the lease back (for pollers used through ``poll_once``)."""
        self._disconnect(graceful=True)
        self.lease.release()


def _server_folder(path: str, prefix: str, delimiter: str | None) -> str:
    """``Torii/Processed`` as this server spells it: its delimiter, inside its personal namespace."""
    if path.upper() == "INBOX":
        return "INBOX"
    name = path.replace("/", delimiter) if delimiter else path
    if prefix and not name.startswith(prefix) and name.upper() != prefix.rstrip(delimiter or "").upper():
        name = prefix + name
    return name


def _raise_on_trouble(responses: Sequence[Any]) -> None:
    """End the session on an untagged BYE, NO or BAD.

    Dovecot says NO ("Internal error") to an idling session whose folder was deleted and
    created again, and then keeps answering from the old folder: only a new session sees the
    new one (and its new UIDVALIDITY).
    """
    for response in responses:
        if isinstance(response, tuple) and response and response[0] in (b"BYE", b"NO", b"BAD"):
            raise IMAPClientAbortError(f"server said {b' '.join(_text(r) for r in response).decode(errors='replace')}")


def _text(item: Any) -> bytes:
    return item if isinstance(item, bytes) else str(item).encode()


def _is_news(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) > 1 and response[1] in (b"EXISTS", b"RECENT")


class ImapPollers:
    """One thread per mailbox, each running an ``ImapPoller`` until ``stop``."""

    def __init__(self, pollers: Iterable[ImapPoller], redis_client: redis.Redis | None = None) -> None:
        """``redis_client``: closed by ``stop`` (the pollers' shared client, when they were given one)."""
        self.pollers = list(pollers)
        self.redis_client = redis_client
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=p.run, args=(self.stopping,), name=f"torii-imap-{p.name}",
                                         daemon=True) for p in self.pollers]

    def start(self) -> ImapPollers:
        for thread in self.threads:
            thread.start()
        if self.threads:
            log.info("imap: polling %d mailbox(es): %s", len(self.pollers), ", ".join(p.name for p in self.pollers))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.redis_client is not None:
            self.redis_client.close()


def start_pollers(
    configs: Sequence[MailboxConfig],
    db: Database,
    enqueue: Callable[[int], None] | None,
    redis_url: str,
    prefix: str,
) -> ImapPollers:
    """Start one poller thread per mailbox; ``stop()`` the result to end them (leases are released)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=10)
    return ImapPollers((ImapPoller(c, db, enqueue, client, prefix) for c in configs), client).start()
