"""Outbound SMTP through a real relay: a second aiosmtpd stands in for it, driven by our smtplib client.

The relay's handler records what it was given and can be told to answer 4xx or 5xx;
a bare listening socket that never greets stands in for a relay that hangs.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from dramatiq.brokers.stub import StubBroker

from gateway.delivery import deliver
from gateway.dkim import DkimSigner, public_txt_record, verify
from gateway.transports import Envelope, SmtpRelay, SmtpTransport, SpoolTransport, crlf, transport_from_env
from harness import DkimKey, free_port, make_dkim_key, make_invitation, make_tls_cert
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import PermanentDeliveryError, TemporaryDeliveryError
from workflows.models import Invitation, OutboundMessage

DOMAIN = "torii.test"


@dataclass(frozen=True)
class Relayed:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


@dataclass
class RelayHandler:
    """What the relay does: accept, or answer from a script first, or refuse for good."""

    script: list[str] = field(default_factory=list)  # DATA replies to give, one per transaction, before accepting
    always: str | None = None  # a DATA reply given every time
    refuse: dict[str, str] = field(default_factory=dict)  # RCPT replies by address
    received: list[Relayed] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)  # client ip:port of every connection that said EHLO
    data_attempts: int = 0
    noops: int = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        self.sessions.add(str(session.peer))
        return responses

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        self.noops += 1
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        if self.script:
            return self.script.pop(0)
        if self.always:
            return self.always
        self.received.append(Relayed(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 queued"


@dataclass
class RunningRelay:
    handler: RelayHandler
    port: int
    url: str

    def transport(self, query: str = "", **kwargs: Any) -> SmtpTransport:
        return SmtpTransport(SmtpRelay.from_url(self.url + query), **kwargs)


def start_relay(handler: RelayHandler, scheme: str = "smtp", **smtp_kwargs: Any) -> Iterator[RunningRelay]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_kwargs)
    controller.start()
    try:
        yield RunningRelay(handler, port, f"{scheme}://127.0.0.1:{port}?timeout=5")
    finally:
        controller.stop()


@pytest.fixture
def relay() -> Iterator[RunningRelay]:
    yield from start_relay(RelayHandler())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert, key = make_tls_cert(tmp_path_factory.mktemp("tls"))
    return Path(cert), Path(key)


def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> DkimKey:
    return make_dkim_key(tmp_path_factory.mktemp("dkim"), domain=DOMAIN, selector="torii")


def envelope(n: int = 0, to: str = "partner@partner.example", body: str = "お世話になっております。") -> Envelope:
    token = f"{n:032x}"
    raw = (f"From: Torii <noreply@{DOMAIN}>\nTo: {to}\nSubject: invitation {n}\n"
           f"Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <{token}@{DOMAIN}>\n"
           "Auto-Submitted: auto-generated\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           f"Content-Transfer-Encoding: 8bit\n\n{body}\n.leading dot\n").encode()
    return Envelope(mail_from=f"bounce+{token}@{DOMAIN}", rcpt_tos=(to,), raw=raw, key=f"{token}@{DOMAIN}")


# -- plain relaying and connection reuse ----------------------------------------------------------

def test_a_mail_reaches_the_relay_with_its_envelope_and_crlf_lines(relay: RunningRelay) -> None:
    transport = relay.transport()
    sent = envelope(1)
    transport.send(sent)
    transport.close()
    [got] = relay.handler.received
    assert got.mail_from == sent.mail_from and got.rcpt_tos == sent.rcpt_tos
    assert got.data == crlf(sent.raw)  # dot-stuffing undone by the relay; every line CRLF
    assert "お世話になっております。".encode() in got.data


def test_several_mails_from_one_thread_share_one_smtp_session(relay: RunningRelay) -> None:
    transport = relay.transport()
    for n in range(5):
        transport.send(envelope(n))
    transport.close()
    assert len(relay.handler.received) == 5
    assert len(relay.handler.sessions) == 1


def test_each_thread_keeps_its_own_session(relay: RunningRelay) -> None:
    transport = relay.transport()
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for n in range(base, base + 10):
                transport.send(envelope(n))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 100,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    transport.close()
    assert errors == []
    assert len(relay.handler.received) == 30
    assert len(relay.handler.sessions) == 3


def test_a_session_the_relay_closed_while_idle_is_replaced_without_an_error(
        caplog: pytest.LogCaptureFixture) -> None:
    # aiosmtpd drops a client that says nothing for `timeout` seconds, as real relays do.
    for running in start_relay(RelayHandler(), timeout=0.3):
        transport = running.transport()  # idle_check of 5 s: no NOOP, the dead socket is found at MAIL
        transport.send(envelope(1))
        time.sleep(0.8)
        with caplog.at_level("INFO", logger="gateway.transports"):
            transport.send(envelope(2))
        transport.close()
        assert len(running.handler.received) == 2
        assert len(running.handler.sessions) == 2
        assert "was closed by the relay; reconnecting" in caplog.text


def test_an_idle_session_is_probed_with_noop_before_use(relay: RunningRelay) -> None:
    transport = relay.transport(idle_check=0.0)
    transport.send(envelope(1))
    transport.send(envelope(2))
    transport.close()
    assert len(relay.handler.received) == 2 and len(relay.handler.sessions) == 1
    assert relay.handler.noops == 1


# -- temporary and permanent failures ----------------------------------------------------------------

def test_a_451_is_a_temporary_error_and_the_next_send_succeeds_on_the_same_session(relay: RunningRelay) -> None:
    relay.handler.script = ["451 4.3.0 Try again later"]
    transport = relay.transport()
    with pytest.raises(TemporaryDeliveryError, match="451 4.3.0 Try again later"):
        transport.send(envelope(1))
    transport.send(envelope(1))
    transport.close()
    assert len(relay.handler.received) == 1 and len(relay.handler.sessions) == 1


def test_a_421_is_temporary_and_the_session_is_given_up(relay: RunningRelay) -> None:
    relay.handler.script = ["421 4.3.2 Service shutting down"]
    transport = relay.transport()
    with pytest.raises(TemporaryDeliveryError, match="421"):
        transport.send(envelope(1))
    transport.send(envelope(1))
    transport.close()
    assert len(relay.handler.received) == 1 and len(relay.handler.sessions) == 2


def test_a_550_is_a_permanent_error(relay: RunningRelay) -> None:
    relay.handler.always = "550 5.7.1 Message rejected as spam"
    with relay.transport() as transport, pytest.raises(PermanentDeliveryError, match="550 5.7.1 Message rejected"):
        transport.send(envelope(1))
    assert relay.handler.received == []


def test_a_recipient_refused_for_good_is_permanent_and_nothing_is_sent(relay: RunningRelay) -> None:
    relay.handler.refuse["nobody@partner.example"] = "550 5.1.1 <nobody@partner.example>: user unknown"
    with relay.transport() as transport, pytest.raises(PermanentDeliveryError, match="user unknown"):
        transport.send(envelope(1, to="nobody@partner.example"))
    assert relay.handler.data_attempts == 0


def test_a_recipient_refused_for_now_holds_back_the_whole_mail(relay: RunningRelay) -> None:
    relay.handler.refuse["full@partner.example"] = "452 4.2.2 Mailbox full"
    transport = relay.transport()
    sent = replace(envelope(1), rcpt_tos=("full@partner.example", "ok@partner.example"))
    with pytest.raises(TemporaryDeliveryError, match="4.2.2 Mailbox full"):
        transport.send(sent)
    assert relay.handler.data_attempts == 0  # the retry will reach both, nobody gets it twice
    del relay.handler.refuse["full@partner.example"]
    transport.send(sent)  # the session was reset and is still usable
    transport.close()
    assert relay.handler.received[0].rcpt_tos == sent.rcpt_tos and len(relay.handler.sessions) == 1


def test_a_partial_permanent_refusal_delivers_to_the_others_and_says_so(relay: RunningRelay) -> None:
    relay.handler.refuse["gone@partner.example"] = "550 5.1.1 no such user"
    sent = replace(envelope(1), rcpt_tos=("gone@partner.example", "ok@partner.example"))
    with relay.transport() as transport, pytest.raises(
            PermanentDeliveryError, match=r"gone@partner\.example.*delivered to ok@partner\.example"):
        transport.send(sent)
    assert relay.handler.received[0].rcpt_tos == ("ok@partner.example",)


def test_a_relay_that_is_not_listening_is_a_temporary_error() -> None:
    transport = SmtpTransport(SmtpRelay.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"))
    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        transport.send(envelope(1))


def test_a_relay_that_never_answers_times_out_as_a_temporary_error() -> None:
    # The kernel completes the handshake for a listening socket; nobody ever greets.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        transport = SmtpTransport(SmtpRelay.from_url(f"smtp://127.0.0.1:{port}?timeout=0.5"))
        started = time.monotonic()
        with pytest.raises(TemporaryDeliveryError, match="Timeout|timed out"):
            transport.send(envelope(1))
        assert time.monotonic() - started < 2.0


# -- TLS and AUTH --------------------------------------------------------------------------------

@pytest.fixture
def starttls_relay(tls_files: tuple[Path, Path]) -> Iterator[RunningRelay]:
    yield from start_relay(RelayHandler(), tls_context=server_tls(tls_files), require_starttls=True)


def test_starttls_with_a_trusted_certificate_delivers(starttls_relay: RunningRelay,
                                                       tls_files: tuple[Path, Path]) -> None:
    transport = starttls_relay.transport(f"&starttls=1&cafile={tls_files[0]}")
    transport.send(envelope(1))
    transport.send(envelope(2))
    transport.close()
    assert len(starttls_relay.handler.received) == 2 and len(starttls_relay.handler.sessions) == 1


def test_starttls_with_an_untrusted_certificate_is_refused(starttls_relay: RunningRelay) -> None:
    with starttls_relay.transport("&starttls=1") as transport, pytest.raises(
            TemporaryDeliveryError, match="certificate not trusted"):
        transport.send(envelope(1))
    assert starttls_relay.handler.received == []


def test_a_relay_that_requires_starttls_holds_plain_mail_until_smtp_url_is_fixed(
        starttls_relay: RunningRelay) -> None:
    # 530 is about our session, not the message: the mail must not be failed for it.
    with starttls_relay.transport() as transport, pytest.raises(TemporaryDeliveryError, match="530"):
        transport.send(envelope(1))


def test_implicit_tls_delivers_and_an_untrusted_certificate_is_refused(tls_files: tuple[Path, Path]) -> None:
    for running in start_relay(RelayHandler(), scheme="smtps", ssl_context=server_tls(tls_files)):
        with running.transport() as transport, pytest.raises(TemporaryDeliveryError, match="certificate not trusted"):
            transport.send(envelope(1))
        transport = running.transport(f"&cafile={tls_files[0]}")
        transport.send(envelope(2))
        transport.close()
        assert [r.data for r in running.handler.received] == [crlf(envelope(2).raw)]


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"torii", b"s3cret/!")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_relay(tls_files: tuple[Path, Path]) -> Iterator[RunningRelay]:
    yield from start_relay(RelayHandler(), tls_context=server_tls(tls_files), require_starttls=True,
                           authenticator=_authenticator, auth_required=True, auth_require_tls=True)


def test_login_after_starttls_with_url_quoted_credentials(auth_relay: RunningRelay,
                                                          tls_files: tuple[Path, Path]) -> None:
    url = f"smtp://torii:s3cret%2F%21@127.0.0.1:{auth_relay.port}?starttls=1&cafile={tls_files[0]}"
    relay = SmtpRelay.from_url(url)
    assert "s3cret" not in repr(relay)
    transport = SmtpTransport(relay)
    transport.send(envelope(1))
    transport.close()
    assert len(auth_relay.handler.received) == 1


def test_a_wrong_password_waits_for_a_fix_instead_of_failing_the_mail(auth_relay: RunningRelay,
                                                                      tls_files: tuple[Path, Path]) -> None:
    url = f"smtp://torii:wrong@127.0.0.1:{auth_relay.port}?starttls=1&cafile={tls_files[0]}"
    with SmtpTransport(SmtpRelay.from_url(url)) as transport, pytest.raises(
            TemporaryDeliveryError, match="refused our login as 'torii': 535"):
        transport.send(envelope(1))


# -- DKIM --------------------------------------------------------------------------------------------

def test_dkim_signed_mail_received_by_the_relay_verifies_and_fails_once_altered(
        relay: RunningRelay, dkim_key: DkimKey) -> None:
    signer = DkimSigner(DOMAIN, "torii", dkim_key.private_pem)
    dns = {signer.record_name: public_txt_record(dkim_key.private_pem)}
    assert dns == {dkim_key.record_name: dkim_key.txt_record}  # what an operator publishes
    transport = relay.transport(signer=signer)
    transport.send(envelope(1))
    transport.close()
    [got] = relay.handler.received
    assert got.data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=torii.test;")
    assert verify(got.data, dns)
    assert not verify(got.data.replace("お世話".encode(), "お世話様".encode()), dns)
    assert not verify(got.data.replace(b"Subject: invitation 1", b"Subject: invitation 2"), dns)
    assert not verify(got.data, {})  # no key published: not verified, no exception


def test_a_header_added_after_signing_breaks_the_signature(dkim_key: DkimKey) -> None:
    signer = DkimSigner(DOMAIN, "torii", dkim_key.private_pem)
    dns = {signer.record_name: dkim_key.txt_record}
    signed = signer.sign(envelope(1).raw)
    head, body = signed.split(b"\r\n\r\n", 1)
    assert verify(signed, dns)
    assert verify(b"Received: from relay by mx\r\n" + signed, dns)  # trace headers may be added
    assert not verify(head + b"\r\nReply-To: attacker@evil.example\r\n\r\n" + body, dns)
    assert not verify(head + b"\r\nSubject: something else\r\n\r\n" + body, dns)


def test_the_spool_captures_the_same_signed_bytes(tmp_path: Path, dkim_key: DkimKey) -> None:
    signer = DkimSigner(DOMAIN, "torii", dkim_key.private_pem)
    sent = envelope(1)
    transport_from_env(tmp_path, None, signer).send(sent)
    captured = SpoolTransport(tmp_path / "mail").path_for(sent.key).read_bytes()
    assert captured.startswith(b"DKIM-Signature:") and verify(captured, {signer.record_name: dkim_key.txt_record})


def test_a_key_that_cannot_sign_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="not usable"):
        DkimSigner(DOMAIN, "torii", b"-----BEGIN RSA PRIVATE KEY-----\nnonsense\n-----END RSA PRIVATE KEY-----\n")


# -- SMTP_URL ------------------------------------------------------------------------------------------

def test_smtp_url_forms(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    plain = SmtpRelay.from_url("smtp://relay.example")
    assert (plain.host, plain.port, plain.security, plain.timeout, plain.cafile) == ("relay.example", 25, "plain",
                                                                                    30.0, None)
    sub = SmtpRelay.from_url(f"smtp://u%40x:p%3Aw@relay.example:587?starttls=1&timeout=7.5&cafile={ca}&helo=gw.x")
    assert (sub.port, sub.security, sub.username, sub.password, sub.timeout, sub.cafile, sub.helo) == (
        587, "starttls", "u@x", "p:w", 7.5, ca, "gw.x")
    assert SmtpRelay.from_url("smtps://relay.example").port == 465
    for bad in ("http://relay", "smtps://relay?starttls=1", "smtp://relay?timeout=0",
                f"smtp://relay?cafile={tmp_path / 'missing.pem'}"):
        with pytest.raises(ValueError):
            SmtpRelay.from_url(bad)


# -- through the outbox ------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    database.upgrade_schema()
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain=DOMAIN)


def outbound(db: Database, outbound_id: int) -> OutboundMessage:
    with db.sessions() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        session.expunge(row)
        return row


def invitation_state(db: Database, invitation_id: int) -> str:
    with db.sessions() as session:
        inv = session.get(Invitation, invitation_id)
        assert inv is not None
        return inv.state


def test_a_4xx_leaves_the_row_queued_and_a_later_success_marks_it_sent(
        db: Database, settings: Settings, relay: RunningRelay, dkim_key: DkimKey) -> None:
    invitation_id, outbound_id = make_invitation(db, settings)
    relay.handler.script = ["451 4.7.1 Greylisted, try again"]
    signer = DkimSigner(DOMAIN, "torii", dkim_key.private_pem)
    transport = relay.transport(signer=signer)
    with pytest.raises(TemporaryDeliveryError):
        deliver(db, settings, transport, outbound_id)
    row = outbound(db, outbound_id)
    assert row.status == "queued" and row.last_error is not None and "451 4.7.1 Greylisted" in row.last_error
    deliver(db, settings, transport, outbound_id)
    transport.close()
    row = outbound(db, outbound_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert invitation_state(db, invitation_id) == "sent"
    [got] = relay.handler.received
    local = row.message_id.split("@")[0]
    assert got.mail_from == f"bounce+{local}@{DOMAIN}" and got.rcpt_tos == ("p@partner.example",)
    assert f"Message-ID: <{row.message_id}>".encode() in got.data
    assert b"Auto-Submitted: auto-generated" in got.data
    assert verify(got.data, {signer.record_name: dkim_key.txt_record})  # the real invitation mail, 8-bit body


def test_a_5xx_fails_the_row_and_makes_the_invitation_undeliverable(
        db: Database, settings: Settings, relay: RunningRelay) -> None:
    invitation_id, outbound_id = make_invitation(db, settings)
    relay.handler.refuse["p@partner.example"] = "550 5.1.1 <p@partner.example>: Recipient address rejected"
    with relay.transport() as transport:
        deliver(db, settings, transport, outbound_id)  # permanent: recorded, not raised
    row = outbound(db, outbound_id)
    assert row.status == "failed" and row.last_error is not None and "550 5.1.1" in row.last_error
    assert invitation_state(db, invitation_id) == "undeliverable"


def test_the_worker_retries_a_4xx_with_backoff_until_the_relay_takes_it(
        db: Database, settings: Settings, relay: RunningRelay) -> None:
    _, outbound_id = make_invitation(db, settings)
    relay.handler.script = ["451 4.3.0 busy", "421 4.3.2 closing"]
    transport = relay.transport()
    broker = StubBroker()
    broker.emit_after("process_boot")
    attempts: list[float] = []

    def deliver_task(outbound_id: int) -> None:
        attempts.append(time.monotonic())
        deliver(db, settings, transport, outbound_id)

    actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
        deliver_task, broker=broker, actor_name="deliver", queue_name="outbound", priority=0,
        options={"max_retries": 5, "min_backoff": 200, "max_backoff": 1000})
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=20)
    worker.start()
    try:
        actor.send(outbound_id)
        broker.join("outbound", timeout=15_000)
        worker.join()
    finally:
        worker.stop()
        transport.close()
    assert len(attempts) == 3 and outbound(db, outbound_id).status == "sent"
    assert attempts[1] - attempts[0] >= 0.1 and attempts[2] - attempts[1] >= 0.1  # backed off, not spun
    assert len(relay.handler.received) == 1


def test_an_smtplib_client_and_our_transport_agree_on_the_relay(relay: RunningRelay) -> None:
    # The test relay itself behaves like a relay to a stock client (guards the fixture).
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as client:
        client.sendmail("a@x.example", ["b@y.example"], b"Subject: hi\r\n\r\nhello\r\n")
    assert relay.handler.received[0].data == b"Subject: hi\r\n\r\nhello\r\n"
