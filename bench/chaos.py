"""Chaos: thousands of messages sent while the gateway's parts are killed, and what became of each one.

    .venv/bin/python bench/chaos.py [--messages 2000] [--clients 4] [--faults 12] [--postgres] [--seed 1]

Partner replies to invitations, bounces of invitation mails and faxed order sheets (text-layer PDFs) go
over SMTP from parallel clients to a split gateway (``bench.chaos_cluster``), while at random points the
intake, the inbound worker and the delivery worker are killed with SIGKILL and started again, Redis is
killed and started empty (its append-only file removed), and with ``--postgres`` (the default when
DATABASE_URL is set) a private PostgreSQL cluster is crashed (``pg_ctl -m immediate``) and started again.
The clients behave as MTAs do: a message that got no 250 is sent again. Mail and faxes (through
email-to-fax) go out through a local relay that records each.

Printed: acknowledged (250), stored, processed, lost (acknowledged but not stored, or never processed;
must be 0), processed twice (an inbound message whose effect is on record twice; 0), duplicate outbound
(two mails or faxes for one event; 0), relayed again (the same Message-ID twice at the relay: a delivery
killed between the relay's 250 and its own commit), and the time to drain after the last fault.
"""

from __future__ import annotations

import argparse
import random
import smtplib
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.chaos_cluster import Cluster, OutboundSink, PrivatePostgres  # noqa: E402
from gateway.redisproc import RedisServer  # noqa: E402
from harness import gateway_env, wait_for  # noqa: E402
from samples import fax_orders as fax_samples  # noqa: E402
from samples.compose import compose_reply  # noqa: E402
from workflows import api_tokens, clock  # noqa: E402
from workflows.db import Database  # noqa: E402

ANSWERS = (("承認します。", "approved"), ("非承認とさせていただきます。", "rejected"), ("保留でお願いします。", "held"))
FAX_DOMAIN = "fax.chaos.example"


@dataclass(frozen=True)
class ChaosConfig:
    messages: int = 2000
    clients: int = 4
    faults: int = 12
    postgres: bool = False
    seed: int = 1
    fax_share: float = 0.03
    bounce_share: float = 0.07
    drain_timeout: float = 600.0
    # How soon work Redis lost is found again (TORII_SWEEP_INTERVAL / TORII_SWEEP_GRACE; 30 / 60 by default).
    sweep_interval: float = 3.0
    sweep_grace: float = 15.0
    verbose: bool = True


@dataclass(frozen=True)
class Mail:
    kind: str  # reply, bounce, fax
    message_id: str
    mail_from: str
    rcpt: str
    raw: bytes
    object_id: int  # the invitation a reply or bounce is about; the fax's index for a fax
    expect: str  # the invitation's state after it, or "fax_order"


@dataclass
class ChaosReport:
    sent: int = 0
    acknowledged: int = 0
    refused: int = 0  # 5xx: the intake said no for good (a bug: the clients do not retry those)
    retries: int = 0
    stored: int = 0
    processed: int = 0
    failed: int = 0  # given up after the worker died on it repeatedly (stored, with a reason)
    lost: int = 0  # acknowledged, not stored
    unprocessed: int = 0  # stored, still ``received`` after the drain
    twice: int = 0
    wrong: int = 0  # processed, but the object did not end as the message says
    duplicate_outbound: int = 0
    relayed_again: int = 0
    outbound: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    setup_seconds: float = 0.0
    send_seconds: float = 0.0
    drain_seconds: float = 0.0
    drain_after_send: float = 0.0
    database: str = ""

    @property
    def ok(self) -> bool:
        """Nothing acknowledged lost or left undone, nothing done twice, nothing sent twice, nothing refused."""
        return self.lost == self.unprocessed == self.twice == self.duplicate_outbound == self.refused == 0

    def lines(self) -> list[str]:
        return [
            f"database: {self.database}; faults: {', '.join(f'{k} x{n}' for k, n in sorted(self.faults.items()))}; "
            f"setup {self.setup_seconds:.0f} s",
            f"sent {self.sent} in {self.send_seconds:.1f} s ({self.retries} retries by the clients), "
            f"acknowledged {self.acknowledged}, refused {self.refused}",
            f"stored {self.stored}, processed {self.processed} (failed {self.failed}), lost {self.lost}, "
            f"unprocessed {self.unprocessed}, processed twice {self.twice}, wrong outcome {self.wrong}",
            f"outbound mails and faxes {self.outbound}, duplicate outbound {self.duplicate_outbound}, "
            f"relayed again (same Message-ID) {self.relayed_again}",
            f"time to drain after the last fault: {self.drain_seconds:.1f} s (after the last 250: "
            f"{self.drain_after_send:.1f} s)",
        ]


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dsn(mail_message_id: str, to: str, message_id: str) -> bytes:
    boundary = "bnd-" + uuid.uuid4().hex
    return crlf(
        f"From: Mail Delivery System <MAILER-DAEMON@mx.partner.example>\n"
        f"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <{message_id}>\nAuto-Submitted: auto-replied\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.partner.example\n\n"
        f"Final-Recipient: rfc822; {to}\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
        f"--{boundary}\nContent-Type: text/rfc822-headers\n\nMessage-ID: <{mail_message_id}>\nTo: {to}\n\n"
        f"--{boundary}--\n".encode())


def fax_mail(pdf: bytes, sender: str, domain: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "fax@faxservice.example"
    message["To"] = f"fax-orders@{domain}"
    message["Subject"] = f"FAX受信 送信元:{sender}"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("FAXを受信しました。")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="fax.pdf")
    return crlf(message.as_bytes())


class Setup:
    """The objects the traffic answers: invitations (sent), buyers faxing to their suppliers."""

    def __init__(self, http: httpx.Client, engine: Engine, domain: str) -> None:
        self.http, self.engine, self.domain = http, engine, domain

    def invitations(self, count: int) -> list[dict[str, str | int]]:
        def one(_: int) -> dict[str, str | int]:
            tag = uuid.uuid4().hex[:10]
            answer = self.http.post("/api/invitations", json={
                "issuer": {"company": "株式会社インフォ商会", "name": "鈴木", "email": f"i-{tag}@issuer.example"},
                "partner": {"company": "株式会社インフォ物産", "name": "山田", "email": f"p-{tag}@partner.example"}})
            answer.raise_for_status()
            body = answer.json()
            return {"id": body["id"], "reply_to": body["reply_to"], "partner": body["partner"]["email"]}

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            made = list(pool.map(one, range(count)))
        wait_for(lambda: self.count("SELECT count(*) FROM outbound_messages WHERE status != 'sent'") == 0,
                 600, 0.5, "every invitation mail to be sent")
        with self.engine.connect() as conn:
            sent = dict(conn.execute(text("SELECT object_id, message_id FROM outbound_messages "
                                          "WHERE kind = 'invitation'")).all())
        for inv in made:
            inv["mail_message_id"] = sent[inv["id"]]
        return made

    def buyer(self, fax: str) -> None:
        tag = uuid.uuid4().hex[:8]
        buyer = self.http.post("/api/buyers", json={
            "name": f"食堂 {tag}", "email": f"orders-{tag}@shokudo.example", "fax": fax,
            "delivery_addresses": [{"name": "本店", "address": "東京都台東区1-2-3"}]}).raise_for_status().json()
        supplier = self.http.post(f"/api/buyers/{buyer['id']}/suppliers", json={
            "name": fax_samples.SUPPLIER_NAME, "channel": "fax", "fax": fax_samples.SUPPLIER_FAX_LOCAL
        }).raise_for_status().json()
        for product in fax_samples.PRODUCTS:
            self.http.put(f"/api/suppliers/{supplier['id']}/products", json={
                "name": product.name, "unit": product.unit, "unit_price": product.price}).raise_for_status()

    def count(self, sql: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())


def traffic(setup: Setup, config: ChaosConfig, rng: random.Random) -> list[Mail]:
    n_fax = max(1, round(config.messages * config.fax_share))
    n_bounce = max(1, round(config.messages * config.bounce_share))
    n_reply = config.messages - n_fax - n_bounce
    invitations = setup.invitations(n_reply + n_bounce)
    mails = []
    for i, inv in enumerate(invitations[:n_reply]):
        answer, state = ANSWERS[i % 3]
        mid = f"{uuid.uuid4().hex}@partner.example"
        raw = compose_reply(answer=answer, from_addr=str(inv["partner"]), to_addr=str(inv["reply_to"]),
                            in_reply_to=None, message_id=mid, style="bare",
                            charset=("utf-8", "iso-2022-jp", "shift_jis")[i % 3])
        mails.append(Mail("reply", mid, str(inv["partner"]), str(inv["reply_to"]), crlf(raw), int(inv["id"]), state))
    for inv in invitations[n_reply:]:
        mid = f"{uuid.uuid4().hex}@mx.partner.example"
        token = str(inv["mail_message_id"]).split("@")[0]
        mails.append(Mail("bounce", mid, "", f"bounce+{token}@{setup.domain}",
                          dsn(str(inv["mail_message_id"]), str(inv["partner"]), mid), int(inv["id"]), "undeliverable"))
    numbers = [f"03-55{i:02d}-{rng.randrange(10000):04d}" for i in range(max(1, n_fax // 10))]
    for number in numbers:
        setup.buyer(number)
    for i in range(n_fax):
        truth = fax_samples.make_order(random.Random(config.seed * 100_000 + i), "ruled", received_at=clock.now(),
                                       line_count=3)
        mid = f"{uuid.uuid4().hex}@faxservice.example"
        pdf = fax_samples.render_pdf(truth, random.Random(i))
        mails.append(Mail("fax", mid, "fax@faxservice.example", f"fax-orders@{setup.domain}",
                          fax_mail(pdf, numbers[i % len(numbers)], setup.domain, mid), i, "fax_order"))
    rng.shuffle(mails)
    return mails


class Clients:
    """Parallel SMTP clients that, like MTAs, send a message again until it gets its 250."""

    def __init__(self, port: int, mails: list[Mail], count: int) -> None:
        self.port = port
        self.parts = [mails[i::count] for i in range(count)]
        self.acked: dict[str, float] = {}
        self.refused: list[str] = []
        self.retries = 0
        self.lock = threading.Lock()

    def run(self) -> None:
        threads = [threading.Thread(target=self._client, args=(part,), daemon=True) for part in self.parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _client(self, part: list[Mail]) -> None:
        smtp: smtplib.SMTP | None = None
        for mail in part:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                code = 0
                try:
                    if smtp is None:
                        smtp = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
                    code = self._transaction(smtp, mail)
                except (OSError, smtplib.SMTPException):
                    smtp = None  # the intake died mid-session: connect again
                if code == 250:
                    with self.lock:
                        self.acked[mail.message_id] = time.monotonic()
                    break
                if code >= 500:
                    with self.lock:
                        self.refused.append(mail.message_id)
                    break
                with self.lock:
                    self.retries += 1
                time.sleep(0.2)
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass

    @staticmethod
    def _transaction(smtp: smtplib.SMTP, mail: Mail) -> int:
        smtp.ehlo_or_helo_if_needed()
        code, _ = smtp.mail(mail.mail_from)
        if code == 250:
            code, _ = smtp.rcpt(mail.rcpt)
        if code == 250:
            code, _ = smtp.data(mail.raw)
        elif code < 500:
            smtp.rset()
        return code


class Faults:
    """Kills and restarts at random moments of the sending, each kind in turn; remembers when the last ended."""

    def __init__(self, cluster: Cluster, clients: Clients, total: int, count: int, rng: random.Random,
                 postgres: bool, say: Callable[[str], None], sending: Callable[[], bool]) -> None:
        kinds = ["intake", "worker", "delivery", "redis"] + (["postgres"] if postgres else [])
        self.plan = sorted(zip((int(rng.uniform(0.05, 0.9) * total) for _ in range(count)),
                               (kinds[i % len(kinds)] for i in range(count)), strict=True))
        self.cluster, self.clients, self.rng, self.say, self.sending = cluster, clients, rng, say, sending
        self.done: Counter[str] = Counter()
        self.last_recovered = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for at, kind in self.plan:
            while len(self.clients.acked) < at and self.sending():
                time.sleep(0.01)
            self.strike(kind)

    def strike(self, kind: str) -> None:
        self.say(f"  fault at {len(self.clients.acked)} acknowledged: {kind}")
        if kind == "redis":
            self.cluster.wipe_redis()
        elif kind == "postgres":
            self.cluster.crash_postgres(self.rng.uniform(1.0, 3.0))
        else:
            self.cluster.kill(kind)
            time.sleep(self.rng.uniform(0.3, 1.5))
            self.cluster.start(kind)
        self.done[kind] += 1
        self.last_recovered = time.monotonic()


def measure(engine: Engine, mails: list[Mail], clients: Clients, sink: OutboundSink, report: ChaosReport) -> None:
    ours = {m.message_id: m for m in mails}
    with engine.connect() as conn:
        rows = {mid: (iid, status) for iid, mid, status in conn.execute(text(
            "SELECT id, message_id, status FROM inbound_messages")).all() if mid in ours}
        repeated = conn.execute(text(
            "SELECT inbound_id FROM events WHERE inbound_id IS NOT NULL AND kind IN ('inbound', 'transition', "
            "'refused') GROUP BY inbound_id, object_type, object_id, kind, summary HAVING count(*) > 1")).all()
        states = dict(conn.execute(text("SELECT id, state FROM invitations")).all())
        fax_inbound = {i for (i,) in conn.execute(text("SELECT inbound_id FROM fax_orders")).all()}
        # One event gives one mail to each address, one fax to each number: a second is a duplicate.
        duplicates = conn.execute(text(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM outbound_messages "
            "GROUP BY object_type, object_id, kind, to_addr) AS g")).scalar_one()
        faxes = conn.execute(text(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM fax_jobs "
            "GROUP BY object_type, object_id, kind, number) AS g")).scalar_one()
        report.outbound = int(conn.execute(text(
            "SELECT (SELECT count(*) FROM outbound_messages) + (SELECT count(*) FROM fax_jobs)")).scalar_one())
    report.acknowledged = len(clients.acked)
    report.refused = len(clients.refused)
    report.retries = clients.retries
    report.stored = sum(1 for mid in clients.acked if mid in rows)
    done = {mid for mid, (_, status) in rows.items() if status != "received"}
    report.processed = len(done & set(clients.acked))
    report.failed = sum(1 for mid in clients.acked if rows.get(mid, (0, ""))[1] == "failed")
    report.lost = sum(1 for mid in clients.acked if mid not in rows)
    report.unprocessed = sum(1 for mid in clients.acked if mid in rows and mid not in done)
    ids = {iid: mid for mid, (iid, _) in rows.items()}
    report.twice = len({ids[i] for (i,) in repeated if i in ids})

    def as_expected(mail: Mail) -> bool:
        if mail.kind == "fax":
            return rows[mail.message_id][0] in fax_inbound
        return states.get(mail.object_id) == mail.expect

    report.wrong = sum(1 for mid in done if rows[mid][1] != "failed" and not as_expected(ours[mid]))
    report.duplicate_outbound = int(duplicates) + int(faxes)
    report.relayed_again = sink.redelivered()


def pending(setup: Setup, ours: set[str]) -> Counter[str]:
    """What is still to do: inbound messages not processed, mails not sent, faxes not handed over."""
    with setup.engine.connect() as conn:
        waiting = sum(1 for (mid,) in conn.execute(text(
            "SELECT message_id FROM inbound_messages WHERE status = 'received'")).all() if mid in ours)
    left = Counter(inbound=waiting,
                   mail=setup.count("SELECT count(*) FROM outbound_messages WHERE status IN ('queued', 'sending')"),
                   fax=setup.count("SELECT count(*) FROM fax_jobs WHERE status = 'queued' OR (status = 'sending' "
                                   "AND transmission_ref IS NULL)"))
    return +left


def run_chaos(config: ChaosConfig, workdir: Path) -> ChaosReport:
    rng = random.Random(config.seed)
    started = time.monotonic()

    def say(line: str) -> None:
        if config.verbose:
            print(f"[{time.monotonic() - started:6.1f} s] {line}")

    report = ChaosReport(database="postgresql (private cluster)" if config.postgres else "sqlite")
    redis = RedisServer(workdir / "redis")
    postgres = PrivatePostgres() if config.postgres else None
    sink = OutboundSink()
    cluster: Cluster | None = None
    try:
        redis_url = redis.start()
        relay = sink.start()
        # SQLite unless asked for PostgreSQL, and then never the machine's own server (DATABASE_URL).
        db_url = postgres.start() if postgres is not None else f"sqlite:///{workdir / 'torii.sqlite3'}"
        env = gateway_env(workdir / "home", db_url, redis_url, SMTP_URL=relay, TORII_FAX_GATEWAY_DOMAIN=FAX_DOMAIN,
                          TORII_MAIL_HOURLY_LIMIT="1000000", TORII_WORKER_THREADS="4",
                          TORII_SWEEP_INTERVAL=str(config.sweep_interval), TORII_SWEEP_GRACE=str(config.sweep_grace))
        (workdir / "home").mkdir(parents=True, exist_ok=True)
        cluster = Cluster(workdir / "home", env, redis, postgres)
        cluster.start_all()
        database = Database(db_url)
        with database.transaction() as session:
            token = api_tokens.issue_token(session, "chaos", "admin")[1]
        database.dispose()
        engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"), pool_pre_ping=True)
        http = httpx.Client(base_url=f"http://127.0.0.1:{env['TORII_HTTP_PORT']}", timeout=60,
                            headers={"Authorization": f"Bearer {token}"})
        setup = Setup(http, engine, env["TORII_MAIL_DOMAIN"])
        say(f"gateway up; setting up {config.messages} messages ...")
        made = time.monotonic()
        mails = traffic(setup, config, rng)
        report.setup_seconds = time.monotonic() - made
        report.sent = len(mails)
        clients = Clients(cluster.smtp_port, mails, config.clients)
        sender = threading.Thread(target=clients.run, name="chaos-send", daemon=True)
        faults = Faults(cluster, clients, len(mails), config.faults, rng, config.postgres, say, sender.is_alive)
        say(f"sending over {config.clients} SMTP connections with {config.faults} faults ...")
        began = time.monotonic()
        sender.start()
        faults.thread.start()
        sender.join()
        report.send_seconds = time.monotonic() - began
        faults.thread.join()
        report.faults = faults.done
        ours = {m.message_id for m in mails}
        deadline = time.monotonic() + config.drain_timeout
        told = 0.0
        while (left := pending(setup, ours)) and time.monotonic() < deadline:
            if time.monotonic() - told > 10:
                say(f"  draining: {dict(left)} to do")
                told = time.monotonic()
            time.sleep(0.25)
        if left:
            say(f"  not drained after {config.drain_timeout:.0f} s: {dict(left)}")
        drained = time.monotonic()
        report.drain_seconds = drained - faults.last_recovered
        report.drain_after_send = drained - max(clients.acked.values(), default=drained)
        measure(engine, mails, clients, sink, report)
        http.close()
        engine.dispose()
        codes = cluster.stop_all()
        cluster = None
        say(f"stopped; exit codes {codes}")
    finally:
        if cluster is not None:
            cluster.stop_all()
        sink.stop()
        redis.stop()
        if postgres is not None:
            postgres.remove()
    return report


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--faults", type=int, default=12)
    parser.add_argument("--postgres", action="store_true", default=os.environ.get("DATABASE_URL", "").startswith(
        "postgres"), help="a private PostgreSQL cluster, crashed and restarted among the faults")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, database) and say where")
    args = parser.parse_args()
    config = ChaosConfig(messages=args.messages, clients=args.clients, faults=args.faults, postgres=args.postgres,
                         seed=args.seed)
    if args.keep:
        workdir = Path(tempfile.mkdtemp(prefix="chaos-", dir="/tmp"))
        print(f"working in {workdir}")
        report = run_chaos(config, workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="chaos-", dir="/tmp") as name:
            report = run_chaos(config, Path(name))
    print("\n".join(report.lines()))
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
