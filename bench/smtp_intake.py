"""Benchmark: partner replies pushed through SMTP into a running gateway.

    .venv/bin/python bench/smtp_intake.py [--replies 1000] [--clients 4] [--workers 2]

Prints accepted messages/s (each 250 answered only after a durable commit), and the
end-to-end latency from the client's 250 to the state change and, for rejections,
to the rejection notice being delivered (p50, p95, p99). Timestamps of the state
change and the delivery are read from the gateway's own database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import smtplib  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from bench.figures import percentile  # noqa: E402
from gateway.redisproc import RedisServer  # noqa: E402
from harness import GatewayProcess, gateway_env, private_database, wait_for  # noqa: E402
from samples.compose import compose_reply  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent SMTP client connections")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered load in messages/s (0: as fast as possible); latency under a load the "
                             "workers keep up with is the pipeline's own, above it is mostly queueing")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="torii-bench-") as tmp_name:
        tmp = Path(tmp_name)
        redis_server = RedisServer(tmp / "redis")
        redis_url = redis_server.start()
        with private_database(tmp) as db_url:
            env = gateway_env(tmp, db_url, redis_url, TORII_WORKER_PROCESSES=str(args.workers),
                              TORII_WORKER_THREADS=str(args.threads), TORII_SWEEP_INTERVAL="30",
                              TORII_SWEEP_GRACE="120")
            gw = GatewayProcess(tmp, env).start()
            try:
                run(gw, db_url, args)
            finally:
                gw.stop()
        redis_server.stop()


def run(gw: GatewayProcess, db_url: str, args: argparse.Namespace) -> None:
    n = args.replies
    print(f"setting up {n} invitations ...", flush=True)
    invitations = []
    for _ in range(n):
        invitations.append(gw.invite())
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))

    def unsent() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM outbound_messages WHERE status != 'sent'")).scalar_one())

    wait_for(lambda: unsent() == 0, 600, 0.5, "invitation mails to be sent")

    mails = []
    for i, inv in enumerate(invitations):
        answer = ("承認します。担当者：山田 太郎", "非承認とさせていただきます。", "保留でお願いします。")[i % 3]
        message_id = f"{uuid.uuid4().hex}@partner.example"
        raw = compose_reply(answer=answer, original_text="", from_addr=inv["partner"]["email"],
                            to_addr=inv["reply_to"], in_reply_to=None, message_id=message_id, style="bare",
                            charset=("utf-8", "iso-2022-jp", "shift_jis")[i % 3])
        mails.append((inv, raw))

    accepted_at: dict[int, float] = {}
    lock = threading.Lock()

    interval = args.clients / args.rate if args.rate else 0.0

    def client(part: list[tuple[dict, bytes]]) -> None:
        began = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=60) as smtp:
            for k, (inv, raw) in enumerate(part):
                if interval:
                    time.sleep(max(0.0, began + k * interval - time.perf_counter()))
                smtp.sendmail(inv["partner"]["email"], [inv["reply_to"]], raw)
                now = time.time()
                with lock:
                    accepted_at[inv["id"]] = now

    print(f"sending {n} replies over {args.clients} SMTP connections ...", flush=True)
    parts = [mails[i::args.clients] for i in range(args.clients)]
    threads = [threading.Thread(target=client, args=(p,)) for p in parts]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start

    def pending() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM inbound_messages WHERE status = 'received'"))
                       .scalar_one()) + unsent()

    wait_for(lambda: pending() == 0, 600, 0.2, "every reply to be processed and every mail sent")
    drained = time.perf_counter() - start

    with engine.connect() as conn:
        # Transitions caused by an inbound message are the answers.
        changed = dict(conn.execute(text(
            "SELECT object_id, max(at) FROM events WHERE kind = 'transition' AND object_type = 'invitation' "
            "AND inbound_id IS NOT NULL GROUP BY object_id")).all())
        mailed = dict(conn.execute(text(
            "SELECT object_id, sent_at FROM outbound_messages WHERE kind = 'rejection_notice'")).all())

    def seconds(at: object) -> float:
        value = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        return value.replace(tzinfo=UTC).timestamp()

    state_latency = [(seconds(changed[i]) - accepted_at[i]) * 1000 for i in accepted_at if i in changed]
    mail_latency = [(seconds(mailed[i]) - accepted_at[i]) * 1000 for i in accepted_at if i in mailed]
    print(f"\nreplies: {n}, SMTP clients: {args.clients}, worker processes: {args.workers} x {args.threads} threads,"
          f" database: {db_url.split(':')[0]}, offered load: {args.rate or 'unlimited'} msg/s")
    print(f"accepted (durable 250): {n / elapsed:8.1f} messages/s  ({elapsed:.2f} s)")
    print(f"fully processed:        {n / drained:8.1f} messages/s  ({drained:.2f} s, incl. outbound mail)")
    for label, values in (("250 → state change", state_latency), ("250 → notice mail sent", mail_latency)):
        if values:
            print(f"{label:<24} p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms  "
                  f"p99 {percentile(values, 99):7.1f} ms  (n={len(values)}, mean {statistics.mean(values):.1f} ms)")


if __name__ == "__main__":
    main()
