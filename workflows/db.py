"""Database engine and sessions.

SQLite is the default (one file under TORII_HOME); PostgreSQL is used when
DATABASE_URL points at one. On SQLite every writing transaction starts
with ``BEGIN IMMEDIATE`` so that two workers never read-then-write the same row
concurrently (PostgreSQL gets the same from ``SELECT ... FOR UPDATE``), and
``synchronous=FULL`` because a ``250`` promises the message is on disk.

A writer that cannot have the database within its patience (60 s; intake asks for less, since its
client is waiting for an answer) gets ``sqlalchemy.exc.OperationalError``, like any other failure of
the database: intake answers 451, a task is retried.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from workflows import migrations
from workflows import registration as _registration  # noqa: F401  its tables are in the schema
from workflows import users as _users  # noqa: F401  its tables are in the schema
from workflows import webhooks as _webhooks  # noqa: F401  its tables are in the schema, its hooks on every session
from workflows.models import Base

log = logging.getLogger(__name__)

_AFTER_COMMIT = "torii_after_commit"
_DISPATCH = "torii_dispatch"
_WRITE = "torii_write"
_PATIENCE = "torii_patience"
PATIENCE = 60.0  # seconds a writer waits for the database by default
# pg_advisory_xact_lock's key for changing the schema; any constant that nothing else locks on.
_MIGRATION_LOCK = 0x746F726969  # "torii"


def engine_url(url: str) -> str:
    # psycopg 3 is the driver we ship; a bare postgresql:// would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    url = engine_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the lock up front, so a read-then-write never meets a concurrent writer;
            # readers begin deferred and, in WAL mode, never wait for anyone.
            options = conn.get_execution_options()
            if options.get(_WRITE, False):
                _begin_immediate(conn.connection.driver_connection, options.get(_PATIENCE, PATIENCE))
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _use_wal(cursor: sqlite3.Cursor, patience: float = 30.0) -> None:
    """Put the database in WAL mode (it stays so). Switching takes an exclusive lock for which SQLite
    calls no busy handler: processes opening a new database together may find it taken, and wait here."""
    deadline = time.monotonic() + patience
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_immediate(dbapi_connection: sqlite3.Connection, patience: float = 60.0) -> None:
    """Take SQLite's write lock, polling every half millisecond.

    SQLite's own busy handler sleeps in growing steps of up to 100 ms, which under steady
    contention between processes (SMTP intake and workers) adds tens of milliseconds to
    every wait; polling keeps the wait close to the time the lock is really held.
    """
    deadline = time.monotonic() + patience
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                if time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                time.sleep(0.0005)
    finally:
        dbapi_connection.execute("PRAGMA busy_timeout=60000")


class Database:
    """One engine and its session factory; created once per process."""

    def __init__(self, url: str, dispatch: Mapping[type[Base], Callable[[int], None]] | None = None) -> None:
        """``dispatch`` maps row classes (outbox mail, fax jobs) to what is called with the id of each new
        row of that class once its transaction commits: how work written in a transaction gets done."""
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={_DISPATCH: dict(dispatch or {})})
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in growing
        # steps (up to 100 ms). Threads of one process queue on this lock instead, so only writers
        # of different processes ever meet SQLite's busy wait.
        self._write_lock: threading.Lock | None = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    def upgrade_schema(self) -> None:
        """Bring the database to the newest schema revision; only migrations make and change tables."""
        with self.engine.connect() as connection:
            # Every process of a gateway calls this on start; once one has migrated, the rest only look.
            if migrations.current(connection) == migrations.head():
                return
        with self._writer(PATIENCE), self.migrating() as connection:
            migrations.upgrade(connection)

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """A transaction for changing the schema, held by one process at a time; the others wait for it
        and then find the work done. Committed at the end of the block, or rolled back: DDL is
        transactional on both backends, so a failed migration leaves the schema as it was."""
        with self.engine.connect() as connection:
            if self.engine.dialect.name != "sqlite":
                with connection.begin():
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                    yield connection
                return
            # SQLite ALTERs by copying a table and dropping the old one, which foreign keys would refuse
            # or cascade; they are checked as a whole before commit instead. The pragma cannot change
            # inside a transaction, so it is set before BEGIN IMMEDIATE (the write lock) and restored after.
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            driver.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.execution_options(**{_WRITE: True}).begin():
                    yield connection
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
            finally:
                driver.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def transaction(self, patience: float = PATIENCE) -> Iterator[Session]:
        """A writing session, committed at the end of the block or rolled back.

        Plain ``sessions()`` are for reading: on SQLite they never take the write lock. ``patience``: the
        seconds to wait for it, then ``OperationalError``.
        """
        with self._writer(patience), self.sessions() as session, session.begin():
            session.connection(execution_options={_WRITE: True, _PATIENCE: patience})
            yield session

    @contextmanager
    def _writer(self, patience: float) -> Iterator[None]:
        lock = self._write_lock
        if lock is None:
            yield
            return
        if not lock.acquire(timeout=patience):
            raise OperationalError("BEGIN IMMEDIATE", None,
                                   TimeoutError(f"another writer held the database for more than {patience:.0f} s"))
        try:
            yield
        finally:
            lock.release()

    def dispose(self) -> None:
        self.engine.dispose()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's transaction has committed (never if it rolls back).

    Tasks are enqueued this way, so a worker never picks up a row that is not yet visible
    and a rolled-back transition enqueues nothing.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    actions = session.info.pop(_AFTER_COMMIT, [])
    for action in actions:
        try:
            action()
        except Exception:  # the row is committed; the sweep will find it again
            log.exception("after-commit action failed; the sweep will retry it")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


@event.listens_for(Session, "pending_to_persistent")
def _dispatch_new_row(session: Session, instance: object) -> None:
    # Outbox rows and fax jobs are sent by a task enqueued here, so no workflow has to remember to.
    handler = session.info.get(_DISPATCH, {}).get(type(instance))
    if handler is not None:
        row_id = instance.id  # type: ignore[attr-defined]
        after_commit(session, lambda: handler(row_id))
