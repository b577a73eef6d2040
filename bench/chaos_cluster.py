"""The parts the chaos run starts, kills and restarts: Torii's processes, its Redis, a private PostgreSQL, and
the outbound relay that counts what the gateway sends.

Torii runs split (``torii smtpd``, ``torii web``, ``torii worker --queues inbound,webhooks`` and
``torii worker --queues outbound``, the delivery of mail and faxes), so each can be killed alone, as on
machines of their own. PostgreSQL is a cluster of the run's own (``initdb`` into the run's directory, a
free port): the machine's PostgreSQL is never touched, let alone restarted.
"""

from __future__ import annotations

import email
import glob
import os
import pwd
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from gateway.redisproc import RedisServer
from harness import REPO, free_port, wait_for

# name: the torii command line (after ``python -m gateway.cli``) of each process the run keeps alive.
PROCESSES = {
    "web": ["web"],
    "intake": ["smtpd"],
    "worker": ["worker", "--queues", "inbound,webhooks"],
    "delivery": ["worker", "--queues", "outbound"],
}


@dataclass
class Relayed:
    message_id: str
    rcpt_tos: tuple[str, ...]
    subject: str


@dataclass
class OutboundSink:
    """The relay of every mail and fax the gateway sends (``SMTP_URL``; faxes through email-to-fax)."""

    received: list[Relayed] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook)
        headers = email.message_from_bytes(envelope.original_content or envelope.content or b"")
        with self.lock:
            self.received.append(Relayed(str(headers.get("Message-ID", "")).strip().strip("<>"),
                                         tuple(envelope.rcpt_tos), str(headers.get("Subject", ""))))
        return "250 2.0.0 OK"

    def start(self) -> str:
        port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=port, decode_data=False)
        self.controller.start()
        return f"smtp://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def redelivered(self) -> int:
        """Mails the relay got more than once, with the same Message-ID (a sender killed between the relay's
        250 and its own commit sends again, with the same id and idempotency key)."""
        with self.lock:
            counts = Counter(r.message_id for r in self.received)
        return sum(n - 1 for n in counts.values() if n > 1)


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a new directory under /tmp, on a free loopback port, restartable like a
    crashed server; ``remove`` deletes it."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = Path(found[-1]).parent
        # Its own directory under /tmp: the postgres user must reach it, and a run's directory is private.
        self.directory = Path(tempfile.mkdtemp(prefix="torii-pg-", dir="/tmp"))
        self.port = free_port()
        # initdb refuses root: as root, the cluster belongs to the postgres user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, cwd="/")
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/torii"

    def start(self) -> str:
        data = self.directory / "data"
        if not data.exists():
            self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(data), "-l", str(self.directory / "postgres.log"), "-w", "-o",
                  f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=200",
                  "start")
        import psycopg

        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'torii'").fetchone():
                conn.execute("CREATE DATABASE torii")
        return self.url

    def crash(self) -> None:
        """Stop at once, without a checkpoint, as a machine losing power does (recovery replays the WAL)."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
        except RuntimeError:
            pass  # not running

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class Cluster:
    """Torii's processes, its Redis and (on PostgreSQL) its database server, each killable alone."""

    def __init__(self, home: Path, env: dict[str, str], redis: RedisServer, postgres: PrivatePostgres | None):
        self.home = home
        self.env = env
        self.redis = redis
        self.postgres = postgres
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.smtp_port = int(env["TORII_SMTP_PORT"])

    def start(self, name: str) -> None:
        with open(self.home / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", *PROCESSES[name]], env=self.env, cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def start_all(self) -> None:
        # All at once: the first to open the database migrates it, the others wait for its lock.
        for name in PROCESSES:
            self.start(name)
        wait_for(self.http_ready, 120, 0.1, "torii web to answer")
        wait_for(self.smtp_ready, 120, 0.1, "torii smtpd to answer")

    def http_ready(self) -> bool:
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{self.env['TORII_HTTP_PORT']}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def smtp_ready(self) -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=2) as client:
                return client.noop()[0] == 250
        except OSError:
            return False

    def kill(self, name: str) -> None:
        """kill -9: no cleanup, no goodbye, whatever it was doing."""
        proc = self.processes[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.processes.items()}

    def wipe_redis(self) -> None:
        """Redis killed and started again empty: its append-only file removed, every queued task gone."""
        if self.redis.process is not None:
            self.redis.process.kill()
            self.redis.process.wait()
            self.redis.process = None
        for path in self.redis.directory.glob("appendonly*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        url = self.redis.start()
        assert url == self.env["REDIS_URL"], "Redis must come back at the same address"

    def crash_postgres(self, down_seconds: float) -> None:
        assert self.postgres is not None
        self.postgres.crash()
        time.sleep(down_seconds)
        self.postgres.start()

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes
