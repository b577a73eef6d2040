"""Benchmark: mail taken in from a real Dovecot mailbox by one IMAP poller.

    .venv/bin/python bench/imap_intake.py [--messages 500] [--processed flag|move] [--batch-size 50]

Starts a private Dovecot (tests/dovecot.py) and a private Redis, appends the messages to
INBOX, then runs one ``ImapPoller`` and prints messages/s stored (durable commit) and marked
processed on the server. Then measures how long a message appended while the poller idles
takes to be stored and marked (IDLE latency). The database is SQLite in a temporary
directory, or a fresh PostgreSQL database when DATABASE_URL points at one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.figures import percentile  # noqa: E402
from dovecot import Dovecot  # noqa: E402
from gateway.imap.config import MailboxConfig, Processed, Tls  # noqa: E402
from gateway.imap.poller import ImapPoller  # noqa: E402
from gateway.redisproc import RedisServer  # noqa: E402
from harness import private_database, wait_for  # noqa: E402
from workflows.db import Database  # noqa: E402
from workflows.models import InboundMessage  # noqa: E402


def partner_reply(n: int) -> bytes:
    body = ("承認します。担当者：山田 太郎\r\n" * 3 + f"（{n}）\r\n").encode("utf-8")
    return (f"From: Yamada <yamada{n % 50}@partner.example>\r\nTo: reply+tok{n}@torii.test\r\n"
            f"Subject: Re: invitation {n}\r\nMessage-ID: <{uuid.uuid4().hex}@partner.example>\r\n"
            f"Date: Sat, 21 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--processed", choices=["flag", "move"], default="flag")
    parser.add_argument("--batch-size", type=int, default=50, help="messages per FETCH and per mark")
    parser.add_argument("--idle-samples", type=int, default=20, help="messages appended one by one during IDLE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="torii-bench-") as tmp_name, Dovecot() as server:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp / "redis")
        redis_url = redis_server.start()
        try:
            with private_database(tmp) as db_url:
                db = Database(db_url)
                db.upgrade_schema()
                try:
                    run(server, db, redis.Redis.from_url(redis_url), args)
                finally:
                    db.dispose()
        finally:
            redis_server.stop()


def run(server: Dovecot, db: Database, client: redis.Redis, args: argparse.Namespace) -> None:
    n = args.messages
    print(f"appending {n} messages to a private Dovecot ...", flush=True)
    started = time.perf_counter()
    server.append_many(partner_reply(i) for i in range(n))
    print(f"appended in {time.perf_counter() - started:.2f} s")

    config = MailboxConfig(name="bench", host=server.host, port=server.port, tls=Tls.NONE, username=server.user,
                           password=server.password, processed=Processed(args.processed))
    enqueued: list[int] = []
    poller = ImapPoller(config, db, enqueued.append, client, "bench", batch_size=args.batch_size)

    def stored() -> int:
        with db.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(InboundMessage)) or 0)

    def cursor() -> int:
        value = client.hget("bench:imap-cursor:bench", "INBOX")
        text = value.decode() if isinstance(value, bytes) else str(value or "")
        return int(text.partition(":")[2] or 0)

    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name="bench-imap")
    started = time.perf_counter()
    thread.start()
    try:
        # The cursor reaches the last UID only once every message is stored and marked.
        wait_for(lambda: cursor() >= n, 600, 0.005, f"{n} messages to be stored and marked")
        elapsed = time.perf_counter() - started
        assert stored() == n and len(enqueued) == n, (stored(), len(enqueued))
        idle = poller.session is not None and poller.session.idle

        latencies = []
        for i in range(args.idle_samples):
            target = n + i + 1
            appended = time.perf_counter()
            server.append(partner_reply(target))
            wait_for(lambda: cursor() >= target, 30, 0.002, "the message appended during IDLE")  # noqa: B023
            latencies.append((time.perf_counter() - appended) * 1000)
    finally:
        stop.set()
        thread.join(15)

    print(f"\nmessages: {n}, processed={args.processed}, batch size {args.batch_size}, "
          f"database: {db.url.split(':')[0]}, IDLE: {idle}")
    print(f"IMAP intake (stored durably, then marked): {n / elapsed:8.1f} messages/s  ({elapsed:.2f} s, "
          f"incl. login and SELECT)")
    if latencies:
        print(f"append during IDLE -> stored and marked:  p50 {percentile(latencies, 50):6.1f} ms  "
              f"p95 {percentile(latencies, 95):6.1f} ms  max {max(latencies):6.1f} ms  "
              f"(n={len(latencies)}, mean {statistics.mean(latencies):.1f} ms)")


if __name__ == "__main__":
    main()
