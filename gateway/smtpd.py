"""SMTP intake (aiosmtpd): what it does (``IntakeHandler``) apart from how it runs (``SmtpServer``).

A ``250`` is answered only after the message is committed; a store that fails
(the database unavailable, full, or locked for longer than ``patience`` seconds)
answers ``451`` so the client tries again, and the next delivery after the
database is back gets its ``250``. Only the gateway's own domain is
accepted at RCPT: it is not a relay. The size limit is aiosmtpd's, answered
with ``552`` as the DATA arrives.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import OperationalError

from gateway import intake
from workflows.db import Database
from workflows.errors import IntakeError

log = logging.getLogger(__name__)

OK = "250 2.0.0 OK"
RELAY_DENIED = "550 5.7.1 Relaying denied: this server accepts mail for {domain} only"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
STORE_FAILED = "451 4.3.0 Message could not be stored; please try again later"

MAX_RECIPIENTS = 100


class IntakeHandler:
    def __init__(self, db: Database, domain: str, enqueue: Callable[[int], None], patience: float = 10.0) -> None:
        self.domain = domain.lower()
        # patience: the client waits for our answer, better a 451 than its timeout. A server database
        # commits several transactions at once; SQLite takes one writer at a time.
        self.commits = GroupCommit(functools.partial(intake.store_many, db, enqueue=enqueue, patience=patience),
                                   at_once=1 if db.url.startswith("sqlite") else 4)

    def accepts(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower().rstrip(".")
        return domain == self.domain

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.accepts(address):
            log.info("smtp: refused RCPT %s from %s", address, session.peer)
            return RELAY_DENIED.format(domain=self.domain)
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        arrival = intake.Arrival(raw, "smtp", envelope.mail_from, list(envelope.rcpt_tos),
                                 str(session.peer[0]) if session.peer else None)
        try:
            stored = await self.commits.store(arrival)
        except IntakeError as exc:
            log.error("smtp: could not store message from %s: %s", envelope.mail_from, exc)
            return STORE_FAILED
        except Exception:
            log.exception("smtp: unexpected error storing message from %s", envelope.mail_from)
            return STORE_FAILED
        return f"250 2.0.0 OK stored as {stored.id}"


class GroupCommit:
    """Messages whose DATA ends while a commit is on its way are stored together by the next one.

    Committing is what intake waits on (a disk flush each), so while one transaction commits, the
    messages that arrive queue for the next, however many: one flush serves them all and each
    client's ``250`` still follows its own commit. Runs on the server's event loop; the storing itself
    on a thread, never on the loop. A transaction that fails is tried again message by message, so a
    message the database refuses fails alone.
    """

    def __init__(self, store: Callable[[list[intake.Arrival]], list[intake.Stored]], *, at_once: int = 1,
                 most: int = 200) -> None:
        self._store = store
        self._at_once = at_once  # transactions committing together: 1 for SQLite's one writer
        self._most = most
        self._waiting: list[tuple[intake.Arrival, asyncio.Future[intake.Stored]]] = []
        self._committing = 0

    async def store(self, arrival: intake.Arrival) -> intake.Stored:
        done: asyncio.Future[intake.Stored] = asyncio.get_running_loop().create_future()
        self._waiting.append((arrival, done))
        if self._committing < self._at_once:
            self._committing += 1
            asyncio.get_running_loop().create_task(self._commit_while_waiting())
        return await done

    async def _commit_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self._most], self._waiting[self._most:]
                await self._commit(batch)
        finally:
            self._committing -= 1

    async def _commit(self, batch: list[tuple[intake.Arrival, asyncio.Future[intake.Stored]]]) -> None:
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                None, self._store, [arrival for arrival, _ in batch])
        except Exception as exc:
            # A database that is away fails them all alike; one that refused a message fails only it.
            if len(batch) == 1 or isinstance(exc.__cause__, OperationalError):
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                return
            for one in batch:
                await self._commit([one])
            return
        for (_, done), stored in zip(batch, results, strict=True):
            if not done.done():  # its client may have gone
                done.set_result(stored)


def tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


class SmtpServer:
    """Runs an IntakeHandler on its own thread and event loop.

    Offers STARTTLS when given a TLS context, 8BITMIME and SMTPUTF8 always; a client
    silent for ``timeout`` seconds is disconnected (421).
    """

    def __init__(self, handler: IntakeHandler, host: str, port: int, max_message_bytes: int,
                 *, tls: ssl.SSLContext | None = None, timeout: float = 60.0) -> None:
        self.controller = Controller(
            handler,
            hostname=host,
            port=port,
            data_size_limit=max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="Torii ESMTP",
            server_hostname=handler.domain,
            tls_context=tls,
            timeout=timeout,
        )

    def start(self) -> None:
        self.controller.start()
        log.info("smtp: listening on %s:%s", self.controller.hostname, self.controller.port)

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
