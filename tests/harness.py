"""Real servers for tests: a private Redis, a database of the run's own, a running gateway.

Nothing here touches data it did not create: Redis is a private server in a
temporary directory, SQLite is a temporary file, and on PostgreSQL (when
DATABASE_URL is set) each run creates and later drops a database of its own.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session

from samples import fax_orders as samples
from workflows import accounts, api_tokens
from workflows.db import Database

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


@contextmanager
def private_database(tmp: Path) -> Iterator[str]:
    """A database URL for this run alone: SQLite in ``tmp``, or a fresh PostgreSQL database."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgresql", "postgres")):
        yield f"sqlite:///{tmp / 'torii.sqlite3'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"torii_test_{uuid.uuid4().hex[:10]}"
    url = make_url(server_url.replace("+psycopg", ""))
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class GatewayProcess:
    """``torii up`` (or another torii command) as a child process, driven over HTTP and SMTP."""

    def __init__(self, home: Path, env: dict[str, str], command: str = "up") -> None:
        self.home = home
        self.env = env
        self.command = command
        self.smtp_port = int(env["TORII_SMTP_PORT"])
        self.http_port = int(env["TORII_HTTP_PORT"])
        self.domain = env["TORII_MAIL_DOMAIN"]
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.http_port}", timeout=30)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / f"{command}.log"

    def start(self, timeout: float = 60.0) -> GatewayProcess:
        """Start it, or start it again after ``stop`` (same home, database and ports)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.http.is_closed:
            self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.http_port}", timeout=30)
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", self.command], env=self.env, cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"torii {self.command} exited early:\n{self.log_tail()}")
            try:
                return self.http.get("/api/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout, 0.1, "the gateway to answer /api/health")
        if "authorization" not in self.http.headers:
            self.http.headers["Authorization"] = f"Bearer {self.make_token('tests', 'admin')}"
        return self

    def make_token(self, name: str, scope: str, **confinement: Any) -> str:
        """A new API token on the gateway's database (as ``torii token create`` makes one)."""
        with self._database() as session:
            return api_tokens.issue_token(session, name, scope, **confinement)[1]

    def make_operator(self, name: str, role: str, password: str, **confinement: Any) -> None:
        """A console account on the gateway's database (as ``torii user add`` makes one)."""
        with self._database() as session:
            accounts.add_operator(session, name, password, role, **confinement)

    @contextmanager
    def _database(self) -> Iterator[Session]:
        db = Database(self.env["DATABASE_URL"])
        try:
            with db.transaction() as session:
                yield session
        finally:
            db.dispose()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired as exc:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"torii {self.command} did not stop on {sig}:\n{self.log_tail()}") from exc
        self.http.close()
        return self.process.returncode

    # -- driving it --------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def send(self, raw: bytes, *, rcpt: str | list[str], mail_from: str = "sender@partner.example") -> str:
        """Deliver over SMTP; return the server's reply to DATA."""
        rcpts = [rcpt] if isinstance(rcpt, str) else rcpt
        raw = re.sub(rb"\r?\n", b"\r\n", raw)  # on the wire every line ends in CRLF, as any client sends it
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            client.ehlo("test.client")
            client.mail(mail_from)
            for r in rcpts:
                code, msg = client.rcpt(r)
                if code >= 400:
                    raise smtplib.SMTPRecipientsRefused({r: (code, msg)})
            code, msg = client.data(raw)
            if code >= 400:
                raise smtplib.SMTPDataError(code, msg)
            return f"{code} {msg.decode()}"

    def invite(self, partner_email: str | None = None, issuer_email: str | None = None, **fields: Any
               ) -> dict[str, Any]:
        """Create an invitation through the API (fresh addresses unless given)."""
        tag = uuid.uuid4().hex[:8]
        body = {
            "issuer": {"company": "株式会社インフォ商会", "name": "鈴木 二郎",
                       "email": issuer_email or f"i-{tag}@issuer.example"},
            "partner": {"company": "株式会社インフォ物産", "name": "山田 太郎",
                        "email": partner_email or f"p-{tag}@partner.example"},
        } | fields
        response = self.http.post("/api/invitations", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def invitation(self, invitation_id: int) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/invitations/{invitation_id}"))

    def wait_state(self, invitation_id: int, state: str, timeout: float = 30.0) -> dict[str, Any]:
        return wait_for(
            lambda: (inv := self.invitation(invitation_id))["state"] == state and inv,
            timeout, 0.1, f"invitation {invitation_id} to be {state}",
        )

    def message(self, message_id: str) -> dict[str, Any] | None:
        found = self.api("GET", "/api/messages", params={"message_id": message_id})
        return found[0] if found else None

    def wait_message(self, message_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return wait_for(
            lambda: (m := self.message(message_id)) and m["status"] != "received" and m,
            timeout, 0.1, f"message {message_id} to be processed",
        )

    def outbox(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.api("GET", "/api/outbox", params=params))

    def invitation_mail(self, invitation_id: int) -> dict[str, Any]:
        """The invitation's mail, once it is sent."""
        return wait_for(
            lambda: next((o for o in self.outbox(object_type="invitation", object_id=invitation_id)
                          if o["kind"] == "invitation" and o["status"] == "sent"), None),
            30, 0.1, f"the invitation mail of {invitation_id} to be sent",
        )

    def reply_to_invitation(self, inv: dict[str, Any], answer: str, **kwargs: Any) -> dict[str, Any]:
        """The partner replies to the invitation mail (``samples.compose.compose_reply`` options); returns
        the inbound message once processed."""
        from samples.compose import compose_reply

        original = self.invitation_mail(inv["id"])
        message_id = f"{uuid.uuid4().hex}@partner.example"
        kwargs.setdefault("from_addr", inv["partner"]["email"])
        raw = compose_reply(answer=answer, original_text=original["text"], original_subject=original["subject"],
                            to_addr=inv["reply_to"], in_reply_to=original["message_id"], message_id=message_id,
                            **kwargs)
        self.send(raw, rcpt=inv["reply_to"], mail_from=kwargs["from_addr"])
        return self.wait_message(message_id)


@dataclass(frozen=True)
class DkimKey:
    """A partner's DKIM key: the private key to sign with and the DNS record that publishes it."""

    domain: str
    selector: str
    private_pem: bytes
    txt_record: str

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def sign(self, raw: bytes) -> bytes:
        import dkim

        signature = dkim.sign(raw, self.selector.encode(), self.domain.encode(), self.private_pem,
                              canonicalize=(b"relaxed", b"relaxed"),
                              include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        return bytes(signature) + raw


def make_dkim_key(directory: Path, domain: str = "partner.example", selector: str = "s1") -> DkimKey:
    key = directory / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return DkimKey(domain, selector, key.read_bytes(), "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())


def make_invitation(db: Any, settings: Any) -> tuple[int, int]:
    """An email invitation made in process: (invitation id, id of its invitation mail in the outbox)."""
    from workflows import invitation
    from workflows.models import OutboundMessage

    with db.transaction() as session:
        inv = invitation.create(session, settings, {
            "issuer": {"company": "発行商事", "name": "鈴木", "email": "i@issuer.example"},
            "partner": {"company": "取引先物産", "name": "山田", "email": "p@partner.example"},
        })
        session.flush()
        out = session.query(OutboundMessage).filter_by(object_id=inv.id).one()
        return int(inv.id), int(out.id)


class CapturingTransport:
    """A mail transport that keeps what it is given (for in-process tests of what gets sent)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, envelope: Any) -> None:
        self.sent.append(envelope)


def make_tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


def gateway_env(home: Path, database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORII_")}
    env.pop("REDIS_URL", None)
    env.update(
        TORII_HOME=str(home),
        DATABASE_URL=database_url,
        TORII_SMTP_PORT=str(free_port()),
        TORII_HTTP_PORT=str(free_port()),
        TORII_MAIL_DOMAIN="torii.test",
        TORII_MAX_MESSAGE_BYTES=str(2 * 1024 * 1024),
        TORII_SWEEP_INTERVAL="1",
        TORII_SWEEP_GRACE="3",
        TORII_DELIVERY_LEASE="10",
        TORII_HEARTBEAT_TIMEOUT_MS="5000",
        TORII_REDIS_NAMESPACE=f"torii-test-{uuid.uuid4().hex[:8]}",
        # No DNS here: DKIM keys come from this map only (tests add theirs).
        TORII_DKIM_TXT_RECORDS="{}",
        TORII_TRUSTED_AUTHSERV_IDS="mx.torii.test",
        TORII_SOFT_BOUNCE_DELAY="0",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def sample_shop(gw: GatewayProcess, fax: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A buyer faxing from ``fax``, with the samples' supplier (``samples.fax_orders``) and its products."""
    tag = uuid.uuid4().hex[:8]
    buyer = dict(gw.api("POST", "/api/buyers", json={
        "name": f"食堂 {tag}", "email": f"orders-{tag}@shokudo.example", "fax": fax,
        "delivery_addresses": [{"name": "本店", "address": "東京都台東区1-2-3"}]}))
    supplier = dict(gw.api("POST", f"/api/buyers/{buyer['id']}/suppliers", json={
        "name": samples.SUPPLIER_NAME, "channel": "fax", "fax": samples.SUPPLIER_FAX_LOCAL}))
    for product in samples.PRODUCTS:
        gw.api("PUT", f"/api/suppliers/{supplier['id']}/products",
               json={"name": product.name, "unit": product.unit, "unit_price": product.price})
    return buyer, supplier


def fax_delivery(gw: GatewayProcess, data: bytes, filename: str, content_type: str, sender: str) -> None:
    """A fax received by the fax-to-email service, mailed to the gateway's order fax address."""
    message = EmailMessage()
    message["From"] = "fax@faxservice.example"
    message["To"] = f"fax-orders@{gw.domain}"
    message["Subject"] = f"FAX受信 送信元:{sender}"
    message.set_content("FAXを受信しました。")
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    gw.send(message.as_bytes(), rcpt=f"fax-orders@{gw.domain}", mail_from="fax@faxservice.example")
