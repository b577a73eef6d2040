"""The ``torii`` command.

    torii up        everything on one machine: private Redis (unless REDIS_URL), workers, SMTP, web
    torii smtpd     the SMTP intake alone        (needs REDIS_URL; DATABASE_URL for several machines)
    torii web       the API and console alone    (same)
    torii worker    Dramatiq workers and the sweep alone (same); ``--queues outbound`` for delivery only
    torii ingest    store files as inbound messages, as if they had arrived by mail
    torii sweep     re-enqueue work Redis lost, once
    torii diagram   print a workflow's state machine as a Mermaid diagram
    torii user      operator accounts (``gateway.cli_accounts``)
    torii token     API tokens
    torii db        schema migrations: upgrade, current, revision (``gateway.cli_db``)

(``./torii demo`` runs ``samples/demo.py``: ``up`` plus a partner conversation played over real SMTP.)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

import dramatiq
import uvicorn

from gateway import intake
from gateway.cli_accounts import add_account_commands
from gateway.cli_db import add_db_commands
from gateway.faxin import wrap_file
from gateway.imap.config import MailboxConfig, mailboxes_from_env
from gateway.imap.threads import start_pollers
from gateway.logs import configure_logging
from gateway.metrics import use_multiprocess_dir
from gateway.redisproc import RedisServer
from gateway.runtime import Runtime, SweepLoop
from gateway.smtpd import IntakeHandler, SmtpServer, tls_context
from gateway.web import create_app
from parsers.fax_sender import fax_file_type
from workflows.config import Settings, load_settings
from workflows.errors import IntakeError

log = logging.getLogger("torii")

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, try again later (what a 451 is to SMTP)


class StopSignal:
    """SIGINT and SIGTERM both mean: stop what you started, cleanly."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, object] = {}

    def install(self) -> StopSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        self.event.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)


@contextmanager
def redis_for(settings: Settings) -> Iterator[Settings]:
    """Settings with a Redis URL: the configured one, or a private server started here."""
    if settings.redis_url:
        yield settings
        return
    server = RedisServer(settings.redis_socket_dir)
    url = server.start()
    try:
        yield replace(settings, redis_url=url)
    finally:
        server.stop()
        log.info("redis: stopped")


def imap_mailboxes(settings: Settings, command: str) -> list[MailboxConfig]:
    try:
        return mailboxes_from_env(settings.imap_mailboxes)
    except ValueError as exc:
        sys.exit(f"torii {command}: TORII_IMAP_MAILBOXES: {exc}")


def _require_redis(settings: Settings, command: str) -> None:
    if not settings.redis_url:
        sys.exit(f"torii {command}: set REDIS_URL (and DATABASE_URL when several machines share the work), "
                 f"or run 'torii up' for everything on one machine")


class WebServer:
    """uvicorn on its own thread, so that the main thread owns the signals."""

    def __init__(self, runtime: Runtime) -> None:
        config = uvicorn.Config(
            create_app(runtime),
            host=runtime.settings.http_host,
            port=runtime.settings.http_port,
            log_level="warning",
            access_log=False,
            log_config=None,  # its records go to the root handler: Torii's format, JSON too
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="torii-web", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start on port {self.server.config.port}")
            time.sleep(0.02)
        log.info("web: listening on http://%s:%s/", self.server.config.host, self.server.config.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class WorkerProcesses:
    """``torii worker`` child processes, restarted if one dies while the gateway runs."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.count = count
        self.env = dict(os.environ, REDIS_URL=settings.redis_url or "", DATABASE_URL=settings.database_url,
                        TORII_HOME=str(settings.home))
        self.processes: list[subprocess.Popen[bytes]] = []

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=self.env,
                                stdin=subprocess.DEVNULL)

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]
        log.info("workers: started %d worker process(es)", self.count)

    def check(self) -> None:
        for i, proc in enumerate(self.processes):
            if proc.poll() is not None:
                log.error("workers: process %s exited with %s; starting another", proc.pid, proc.returncode)
                self.processes[i] = self._spawn()

    def stop(self, timeout: float = 20.0) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.info("workers: stopped")


@dataclass
class Gateway:
    runtime: Runtime
    workers: WorkerProcesses | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def run_until(self, stop: StopSignal) -> None:
        while not stop.wait(1.0):
            if self.workers is not None:
                self.workers.check()


@contextmanager
def gateway(settings: Settings, *, smtp: bool = True, web: bool = True, workers: int = 0) -> Iterator[Gateway]:
    """Start the parts asked for and stop them all, in reverse order, when the block ends."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        settings = stack.enter_context(redis_for(settings))
        runtime = Runtime(settings)
        stack.callback(runtime.close)
        runtime.db.upgrade_schema()
        running = Gateway(runtime)
        if workers:
            # The workers observe the work, this process serves /metrics: they share a directory.
            use_multiprocess_dir(settings.home / "metrics")
            running.workers = WorkerProcesses(settings, workers)
            running.workers.start()
            stack.callback(running.workers.stop)
        if smtp:
            handler = IntakeHandler(runtime.db, settings.mail_domain, runtime.enqueue_inbound, settings.intake_patience)
            tls = (tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
                   if settings.smtp_tls_cert and settings.smtp_tls_key else None)
            server = SmtpServer(handler, settings.smtp_host, settings.smtp_port, settings.max_message_bytes,
                                tls=tls, timeout=settings.smtp_timeout)
            server.start()
            stack.callback(server.stop)
        if web:
            web_server = WebServer(runtime)
            web_server.start()
            stack.callback(web_server.stop)
        yield running


def cmd_up(args: argparse.Namespace) -> None:
    stop = StopSignal().install()
    settings = load_settings()
    imap_mailboxes(settings, "up")  # a bad URL fails here, not in every worker child
    with gateway(settings, workers=settings.worker_processes) as running:
        s = running.settings
        print(f"Torii is up. SMTP {s.smtp_host}:{s.smtp_port} (mail for @{s.mail_domain}), "
              f"console http://{s.http_host}:{s.http_port}/, data in {s.home}. Ctrl-C stops.", flush=True)
        running.run_until(stop)
    print("Torii stopped.", flush=True)


def _run_part(command: str, *, smtp: bool, web: bool) -> None:
    stop = StopSignal().install()
    settings = load_settings()
    _require_redis(settings, command)
    with gateway(settings, smtp=smtp, web=web) as running:
        running.run_until(stop)


def cmd_smtpd(args: argparse.Namespace) -> None:
    _run_part("smtpd", smtp=True, web=False)


def cmd_web(args: argparse.Namespace) -> None:
    _run_part("web", smtp=False, web=True)


def cmd_worker(args: argparse.Namespace) -> None:
    stop = StopSignal().install()
    settings = load_settings()
    _require_redis(settings, "worker")
    mailboxes = imap_mailboxes(settings, "worker")
    runtime = Runtime(settings)
    runtime.db.upgrade_schema()
    # A worker for some queues only (``--queues outbound``: the delivery of mail and faxes) can be scaled,
    # restarted and killed apart from the others.
    queues = {q.strip() for q in (args.queues or "").split(",") if q.strip()} or None
    unknown = (queues or set()) - set(runtime.broker.get_declared_queues())
    if unknown:
        sys.exit(f"torii worker: unknown queue(s) {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(sorted(runtime.broker.get_declared_queues()))}")
    worker = dramatiq.Worker(runtime.broker, queues=queues, worker_threads=settings.worker_threads)
    worker.start()
    sweeper = SweepLoop(runtime)
    sweeper.start()
    # Each worker process runs a poller per mailbox; a Redis lease lets only one of them work at a time.
    assert settings.redis_url
    imap = start_pollers(mailboxes, runtime.db, runtime.enqueue_inbound, settings.redis_url,
                         settings.redis_namespace)
    log.info("worker: %d threads on %s, %d IMAP mailbox(es)", settings.worker_threads, runtime.broker.queues,
             len(mailboxes))
    try:
        stop.wait()
    finally:
        imap.stop()
        sweeper.stop()
        worker.stop(timeout=10_000)
        runtime.close()
        log.info("worker: stopped")


def cmd_ingest(args: argparse.Namespace) -> None:
    settings = load_settings()
    with redis_for(settings) as settings:
        runtime = Runtime(settings)
        runtime.db.upgrade_schema()
        for name in args.files:
            raw = Path(name).read_bytes()
            if fax_file_type(raw) is not None:  # a faxed order as a file: as its fax service would deliver it
                raw = wrap_file(raw, name, settings, sender_fax=args.fax_from)
            try:
                stored = intake.store(runtime.db, raw, channel="file", mail_from=None, rcpt_tos=[],
                                      peer=f"file:{Path(name).name}", enqueue=runtime.enqueue_inbound,
                                      patience=settings.intake_patience)
            except IntakeError as exc:  # nothing of this file is stored: say so, and that trying again will do
                runtime.close()
                print(f"{name}: not stored ({exc}); try again when the database is back", file=sys.stderr)
                sys.exit(EX_TEMPFAIL)
            print(f"{name}: inbound {stored.id}{'' if stored.created else ' (duplicate)'}")
        runtime.close()


def cmd_sweep(args: argparse.Namespace) -> None:
    settings = load_settings()
    _require_redis(settings, "sweep")
    runtime = Runtime(settings)
    result = runtime.sweep_once()
    print(f"re-enqueued {result.inbound} inbound and {result.outbound} outbound items")
    runtime.close()


def cmd_diagram(args: argparse.Namespace) -> None:
    from workflows.registry import WORKFLOWS

    spec = WORKFLOWS.get(args.workflow)
    if spec is None:
        sys.exit(f"unknown workflow {args.workflow!r}; known: {', '.join(WORKFLOWS)}")
    print(spec.machine.mermaid())


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], None], str]] = {
    "up": (cmd_up, "run the whole gateway on this machine"),
    "smtpd": (cmd_smtpd, "run the SMTP intake alone"),
    "web": (cmd_web, "run the API and operator console alone"),
    "worker": (cmd_worker, "run workflow workers and the sweep alone"),
    "ingest": (cmd_ingest, "store mail files (or faxed orders as PDF/TIFF) as inbound messages"),
    "sweep": (cmd_sweep, "re-enqueue work that Redis lost, once"),
    "diagram": (cmd_diagram, "print a workflow's state machine as Mermaid"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="torii", description="Torii email and fax gateway")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_fn, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == "ingest":
            p.add_argument("files", nargs="+", help="mail files (.eml), or faxed orders as PDF or TIFF")
            p.add_argument("--fax-from", metavar="NUMBER",
                           help="the number a PDF or TIFF was faxed from (else read from its file name)")
        if name == "diagram":
            p.add_argument("workflow", nargs="?", default="invitation")
        if name == "worker":
            p.add_argument("--queues", metavar="Q,Q", help="only these queues (inbound, outbound, webhooks; "
                                                            "default all)")
        p.set_defaults(run=_fn)
    add_account_commands(sub)
    add_db_commands(sub)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    args.run(args)


if __name__ == "__main__":
    main()
