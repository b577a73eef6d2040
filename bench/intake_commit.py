"""Benchmark: SMTP intake with a commit before every 250, against bare aiosmtpd writing to the same database.

    .venv/bin/python bench/intake_commit.py [--messages 3000] [--clients 8] [--postgres URL]

Both servers run in this process on 127.0.0.1 and get the same partner replies from the same SMTP
clients (threads with smtplib, each its own connection). The baseline is what any durable intake must
pay: aiosmtpd's ``handle_DATA`` inserting the raw bytes with the same driver and durability (SQLite WAL
with ``synchronous=FULL``, or PostgreSQL) and committing before its 250, one message a transaction.
Torii is ``gateway.smtpd.IntakeHandler`` as ``torii up`` runs it: the message's summary and
deduplication key, its blob and row, and the task on a real Redis after the commit; no worker takes the
tasks (workers idle). Prints messages/s of each, their ratio and the 250 latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import smtplib  # noqa: E402

import dramatiq  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from bench.figures import percentile  # noqa: E402
from gateway.broker import make_broker  # noqa: E402
from gateway.redisproc import RedisServer  # noqa: E402
from gateway.smtpd import IntakeHandler, SmtpServer  # noqa: E402
from harness import free_port  # noqa: E402
from samples.compose import compose_reply  # noqa: E402
from workflows.db import Database  # noqa: E402

DOMAIN = "torii.test"
GOAL_RATIO = 0.9


@dataclass(frozen=True)
class Run:
    rate: float  # messages/s accepted
    latencies_ms: list[float]  # DATA sent to 250 received, per message

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def replies(n: int) -> list[tuple[str, str, bytes]]:
    """(sender, recipient, raw) for n distinct partner replies in the three charsets partners use."""
    out = []
    for i in range(n):
        sender, rcpt = f"partner{i}@example.co.jp", f"reply+{uuid.uuid4().hex[:20]}@{DOMAIN}"
        answer = ("承認します。担当者：山田 太郎", "非承認とさせていただきます。", "保留でお願いします。")[i % 3]
        raw = compose_reply(answer=answer,
                            original_text="", from_addr=sender, to_addr=rcpt, in_reply_to=None,
                            message_id=f"{uuid.uuid4().hex}@example.co.jp", style="bare",
                            charset=("utf-8", "iso-2022-jp", "shift_jis")[i % 3])
        out.append((sender, rcpt, raw))
    return out


def send_all(port: int, mails: list[tuple[str, str, bytes]], clients: int) -> Run:
    """The clients run in a process of their own, so that the server's process has its interpreter to itself."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_clients, args=(port, mails, clients, results))
    child.start()
    run = results.get(timeout=1800)
    child.join()
    return Run(*run)


def _clients(port: int, mails: list[tuple[str, str, bytes]], clients: int, results: Any) -> None:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(part: list[tuple[str, str, bytes]]) -> None:
        mine = []
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for sender, rcpt, raw in part:
                began = time.perf_counter()
                smtp.sendmail(sender, [rcpt], raw)
                mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(mails[i::clients],)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((len(mails) / (time.perf_counter() - start), latencies))


class BareHandler:
    """The least a durable SMTP intake does: the bytes inserted and committed, then 250."""

    def __init__(self, insert: Callable[[bytes, str, list[str]], None]) -> None:
        self.insert = insert

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        await asyncio.get_running_loop().run_in_executor(
            None, self.insert, raw, envelope.mail_from, list(envelope.rcpt_tos))
        return "250 2.0.0 OK"


def sqlite_insert(path: Path) -> Callable[[bytes, str, list[str]], None]:
    """One connection a thread, as a pool gives; SQLite takes one writer at a time anyway."""
    local = threading.local()

    def insert(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO mail (mail_from, rcpt_tos, raw) VALUES (?, ?, ?)",
                     (mail_from, " ".join(rcpt_tos), raw))
        conn.execute("COMMIT")

    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE mail (id INTEGER PRIMARY KEY, mail_from TEXT, rcpt_tos TEXT, raw BLOB)")
    setup.close()
    return insert


def postgres_insert(url: str) -> Callable[[bytes, str, list[str]], None]:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    local = threading.local()
    with psycopg.connect(conninfo, autocommit=True) as setup:
        setup.execute("CREATE TABLE bench_bare_mail "
                      "(id bigserial PRIMARY KEY, mail_from text, rcpt_tos text, raw bytea)")

    def insert(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo)
        conn.execute("INSERT INTO bench_bare_mail (mail_from, rcpt_tos, raw) VALUES (%s, %s, %s)",
                     (mail_from, " ".join(rcpt_tos), raw))
        conn.commit()

    return insert


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A database of this run's own on the server ``url`` names, dropped after it."""
    import psycopg

    name = f"torii_bench_{uuid.uuid4().hex[:10]}"
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def measure_bare(insert: Callable[[bytes, str, list[str]], None], mails: list[tuple[str, str, bytes]],
                 clients: int) -> Run:
    port = free_port()
    controller = Controller(BareHandler(insert), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        return send_all(port, mails, clients)
    finally:
        controller.stop()


def measure_torii(database_url: str, redis_url: str, mails: list[tuple[str, str, bytes]], clients: int) -> Run:
    db = Database(database_url)
    db.upgrade_schema()
    broker = make_broker(redis_url, f"torii-bench-{uuid.uuid4().hex[:8]}", 60_000)
    actor = dramatiq.Actor(lambda inbound_id: None, broker=broker, actor_name="process_inbound",
                           queue_name="inbound", priority=0, options={})
    port = free_port()
    try:
        def enqueue(inbound_id: int) -> None:
            actor.send(inbound_id)

        with SmtpServer(IntakeHandler(db, DOMAIN, enqueue), "127.0.0.1", port, 10 * 1024 * 1024):
            return send_all(port, mails, clients)
    finally:
        broker.close()
        db.dispose()


@dataclass(frozen=True)
class Intake:
    """Both runs of one measurement, and what they ran on."""

    baseline: Run
    torii: Run
    database: str
    messages: int
    clients: int

    @property
    def ratio(self) -> float:
        return self.torii.rate / self.baseline.rate


def measure(messages: int, clients: int, postgres: str | None = None) -> Intake:
    """The baseline and Torii's run, each on a fresh database, the same mails and clients."""
    mails = replies(messages)
    with tempfile.TemporaryDirectory(prefix="torii-bench-intake-") as tmp_name:
        tmp = Path(tmp_name)
        redis = RedisServer(tmp / "redis")
        redis_url = redis.start()
        try:
            if postgres:
                with postgres_database(postgres) as bare_url:
                    bare = measure_bare(postgres_insert(bare_url), mails, clients)
                with postgres_database(postgres) as torii_url:
                    torii = measure_torii(torii_url, redis_url, mails, clients)
            else:
                bare = measure_bare(sqlite_insert(tmp / "bare.sqlite3"), mails, clients)
                torii = measure_torii(f"sqlite:///{tmp / 'torii.sqlite3'}", redis_url, mails, clients)
        finally:
            redis.stop()
    return Intake(bare, torii, "postgresql" if postgres else "sqlite", messages, clients)


def report(result: Intake) -> list[str]:
    lines = [f"SMTP intake, commit before 250: {result.messages} replies over {result.clients} connections, "
             f"{result.database}, workers idle",
             f"{'':<10}{'msg/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for label, run in (("baseline", result.baseline), ("torii", result.torii)):
        lines.append(f"{label:<10}{run.rate:9.1f}{run.p(50):9.1f}{run.p(95):9.1f}{run.p(99):9.1f}")
    lines.append(f"ratio {result.ratio:.2f} (goal ≥ {GOAL_RATIO:.2f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent SMTP connections")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server to create a database of the run's own on")
    args = parser.parse_args()
    for line in report(measure(args.messages, args.clients, args.postgres)):
        print(line)


if __name__ == "__main__":
    main()
