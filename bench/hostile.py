"""Benchmark: hostile inputs through a real gateway, each to its reason.

    .venv/bin/python bench/hostile.py [--quick] [--only NAME ...]

Starts ``torii up`` (one worker process, four threads) on a scratch home, then gives it,
one at a time, the inputs of ``samples.hostile`` (the 1 GiB PDF bomb from the bug report by
``torii ingest``, the others by SMTP as a fax service or a partner would send them), and a
good fax before and after them. For each it prints the input, its size, the time from
handing it over to its reason (the message no longer ``received``), the status and reason
stored, and the peak resident memory of the worker's process tree (the worker, its fork
server of PDF readers, the readers, Tesseract), sampled every 20 ms. ``--quick`` leaves out
the slow PDF, which takes the PDF reader's whole time limit (30 s) by design.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from gateway.redisproc import RedisServer  # noqa: E402
from harness import GatewayProcess, gateway_env, private_database, wait_for  # noqa: E402
from samples import hostile  # noqa: E402

DOMAIN = "torii.test"
GOOD_FAX = REPO / "samples" / "fax_orders" / "01-ruled-scan.pdf"
GOOD_FAX_AFTER = REPO / "samples" / "fax_orders" / "02-plain-scan.pdf"  # another: the same again is a duplicate


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    how: str  # "ingest", "fax" (to the order fax address), "fax-back" (to fax@), "mail"
    filename: str = "fax.pdf"
    content_type: str = "application/pdf"


CASES = [
    Case("good fax (before)", GOOD_FAX.read_bytes, "fax"),
    Case("1 GiB bomb: drawing (torii ingest)", lambda: hostile.bomb_pdf(hostile.GiB), "ingest", "bomb.pdf"),
    Case("1 GiB bomb: whitespace", lambda: hostile.bomb_pdf(hostile.GiB, b" "), "fax"),
    Case("1 GiB bomb deflated twice", lambda: hostile.bomb_pdf(hostile.GiB, twice=True), "fax-back"),
    Case("slow PDF: 8 MiB of drawing", lambda: hostile.slow_pdf(8 * hostile.MiB), "fax"),
    Case("PDF image of 100k×100k px", hostile.image_bomb_pdf, "fax"),
    Case("PDF of 10,000 pages", lambda: hostile.many_pages_pdf(10_000), "fax"),
    Case("encrypted PDF", hostile.encrypted_pdf, "fax-back"),
    Case("TIFF of 1M×1M px", hostile.huge_tiff, "fax", "fax.tiff", "image/tiff"),
    Case("5,000 MIME parts", lambda: hostile.many_parts_mail(5000, to=f"someone@{DOMAIN}"), "mail"),
    Case("MIME nested 5,000 deep", lambda: hostile.deep_mail(5000, to=f"someone@{DOMAIN}"), "mail"),
    Case("8 MiB header", lambda: hostile.huge_header_mail(8 * hostile.MiB, to=f"someone@{DOMAIN}"), "mail"),
    Case("good fax (after)", GOOD_FAX_AFTER.read_bytes, "fax"),
]


def tree(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) * 1024 if found else 0
    return total


class PeakMemory(threading.Thread):
    """The largest resident memory of a process tree, sampled every 20 ms until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak = root, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.02):
            self.peak = max(self.peak, rss(tree(self.root)))

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return self.peak


def worker_of(gw: GatewayProcess) -> int:
    assert gw.process is not None
    return next(p for p in tree(gw.process.pid)[1:]
                if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0"))


def hand_over(gw: GatewayProcess, case: Case, data: bytes, scratch: Path) -> int:
    """Give the input to the gateway as its case says; the inbound id."""
    if case.how == "ingest":
        path = scratch / case.filename
        path.write_bytes(data)
        done = subprocess.run([sys.executable, "-m", "gateway.cli", "ingest", str(path), "--fax-from", "03-5555-0101"],
                              env=gw.env, cwd=REPO, capture_output=True, check=True)
        found = re.search(rb"inbound (\d+)", done.stdout)
        assert found, done.stdout + done.stderr
        return int(found.group(1))
    message_id = f"{uuid.uuid4().hex}@bench.example"
    if case.how == "mail":
        raw = data.replace(b"MIME-Version: 1.0\r\n", f"MIME-Version: 1.0\r\nMessage-ID: <{message_id}>\r\n".encode(), 1)
        to = f"someone@{DOMAIN}"
    else:
        to = f"fax-orders@{DOMAIN}" if case.how == "fax" else f"fax@{DOMAIN}"
        raw = hostile.fax_mail(data, case.filename, case.content_type, to=to, message_id=message_id)
    gw.send(raw, rcpt=to, mail_from="sender@bench.example")
    return int(wait_for(lambda: gw.message(message_id), 30, 0.05, "the message to be stored")["id"])


def run(gw: GatewayProcess, cases: list[Case], scratch: Path) -> None:
    print(f"{'input':36} {'size':>9} {'to reason':>9} {'RSS peak':>9}  status: reason")
    worker = worker_of(gw)
    for case in cases:
        data = case.make()
        sampler = PeakMemory(worker)
        sampler.start()
        started = time.monotonic()
        inbound_id = hand_over(gw, case, data, scratch)
        message = wait_for(lambda i=inbound_id: (m := gw.api("GET", f"/api/messages/{i}"))["status"] != "received"
                           and m, 600, 0.05, f"{case.name} to get a reason")
        seconds = time.monotonic() - started
        peak = sampler.stop()
        size = f"{len(data) / 1e6:.1f} MB" if len(data) >= 100_000 else f"{len(data) / 1e3:.1f} kB"
        print(f"{case.name:36} {size:>9} {seconds:8.1f}s {peak / 2**20:6.0f} MiB  {message['status']}: "
              f"{(message['reason'] or '')[:110]}", flush=True)
        if worker_of(gw) != worker:
            print("  the worker died and was restarted", flush=True)
            worker = worker_of(gw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="leave out the slow PDF (30 s by design)")
    parser.add_argument("--only", nargs="*", help="cases whose name contains one of these words")
    args = parser.parse_args()
    cases = [c for c in CASES if not (args.quick and c.name.startswith("slow"))]
    if args.only:
        cases = [c for c in cases if any(word.lower() in c.name.lower() for word in args.only)]

    with tempfile.TemporaryDirectory(prefix="torii-bench-hostile-") as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp / "redis")
        redis_url = redis_server.start()
        try:
            with private_database(tmp) as db_url:
                env = gateway_env(tmp / "home", db_url, redis_url, TORII_WORKER_PROCESSES="1",
                                  TORII_WORKER_THREADS="4", TORII_MAX_MESSAGE_BYTES=str(32 * 2**20),
                                  TORII_SWEEP_INTERVAL="5", TORII_SWEEP_GRACE="60")
                gw = GatewayProcess(tmp / "home", env).start()
                try:
                    run(gw, cases, tmp)
                finally:
                    gw.stop()
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
