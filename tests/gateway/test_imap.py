"""IMAP intake against a real Dovecot on 127.0.0.1, a real SQLite file and a real Redis.

Each test gets a Dovecot of its own (it starts in well under a second), a database of its own
and a Redis key prefix of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from dovecot import Dovecot
from gateway import intake
from gateway.imap.backoff import Backoff
from gateway.imap.config import MailboxConfig, Processed, Tls, mailbox_from_url, mailboxes_from_env
from gateway.imap.poller import ImapPoller
from gateway.imap.session import PROCESSED_KEYWORD
from gateway.imap.threads import start_pollers
from harness import wait_for
from workflows.db import Database
from workflows.errors import IntakeError
from workflows.models import InboundMessage, RawBlob


def mail(n: int, body: str = "承認します。", **headers: str) -> bytes:
    """A small partner reply, different for every ``n``."""
    head = {"From": "Yamada <yamada@partner.example>", "To": "reply+tok@torii.test",
            "Subject": f"Re: invitation {n}", "Message-ID": f"<{n}.{uuid.uuid4().hex}@partner.example>",
            "Content-Type": "text/plain; charset=utf-8", **headers}
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return lines.encode() + b"\r\n" + body.encode() + b"\r\n"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'imap.sqlite3'}")
    database.upgrade_schema()
    yield database
    database.dispose()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    return f"test-imap-{uuid.uuid4().hex[:8]}"


class Enqueued(list[int]):
    """Records what the intake enqueued (called after commit, from the poller's thread)."""

    def __call__(self, inbound_id: int) -> None:
        self.append(inbound_id)


@pytest.fixture
def enqueued() -> Enqueued:
    return Enqueued()


def config_for(server: Dovecot, *, tls: Tls = Tls.NONE, port: int | None = None, **overrides: Any) -> MailboxConfig:
    values: dict[str, Any] = dict(name="partners", host=server.host, port=port or server.port, tls=tls,
                                  username=server.user, password=server.password, poll_interval=0.3)
    values.update(overrides)
    return MailboxConfig(**values)


@pytest.fixture
def make_poller(db: Database, redis_client: redis.Redis, prefix: str,
                enqueued: Enqueued) -> Iterator[Callable[..., ImapPoller]]:
    made: list[ImapPoller] = []

    def make(config: MailboxConfig, cls: type[ImapPoller] = ImapPoller) -> ImapPoller:
        # Short lease and backoff: takeovers and reconnects within a second, not half a minute.
        poller = cls(config, db, enqueued, redis_client, prefix, lease_ttl=3.0, backoff=Backoff(0.1, 1.0))
        made.append(poller)
        return poller

    yield make
    for poller in made:
        poller.close()


@contextmanager
def running(poller: ImapPoller) -> Iterator[threading.Event]:
    """``poller.run`` on a thread; stopped (and checked to have stopped) when the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name=f"test-{poller.name}")
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the poller did not stop within 10 s"


def rows(db: Database) -> list[InboundMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def raw_of(db: Database, row: InboundMessage) -> bytes:
    with db.sessions() as session:
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None
        return blob.data


def processed(flags: dict[int, set[str]]) -> dict[int, bool]:
    return {uid: PROCESSED_KEYWORD in f for uid, f in flags.items()}


def cursor(redis_client: redis.Redis, prefix: str, name: str = "partners", folder: str = "INBOX") -> str | None:
    value = redis_client.hget(f"{prefix}:imap-cursor:{name}", folder)
    return value.decode() if isinstance(value, bytes) else value


# -- configuration ------------------------------------------------------------------------------


def test_mailboxes_are_read_from_whitespace_separated_urls() -> None:
    configs = mailboxes_from_env(
        "imaps://orders%40example.jp:p%40ss%20word@imap.example.jp\n"
        "  imap://fax:pw@10.0.0.5:1143/Fax/Incoming?tls=none&processed=move&processed_folder=Done/Fax"
        "&idle=off&poll_interval=5&name=fax"
    )
    orders, fax = configs
    assert (orders.name, orders.host, orders.port, orders.tls) == ("orders@example.jp@imap.example.jp:993/INBOX",
                                                                    "imap.example.jp", 993, Tls.SSL)
    assert (orders.username, orders.password, orders.folder) == ("orders@example.jp", "p@ss word", "INBOX")
    assert (orders.processed, orders.idle, orders.idle_timeout) == (Processed.FLAG, True, 300.0)
    assert (fax.name, fax.port, fax.tls, fax.folder) == ("fax", 1143, Tls.NONE, "Fax/Incoming")
    assert (fax.processed, fax.processed_folder, fax.idle, fax.poll_interval) == (Processed.MOVE, "Done/Fax",
                                                                                   False, 5.0)
    assert mailbox_from_url("imap://u:p@h").tls is Tls.STARTTLS
    assert mailboxes_from_env(None) == [] and mailboxes_from_env("  ") == []


@pytest.mark.parametrize("value, complaint", [
    ("pop3://u:p@h", "imap:// or imaps://"),
    ("imap://u@h", "password"),
    ("imap://u:p@h?tls=maybe", "tls must be"),
    ("imap://u:p@h?proccessed=move", "unknown parameter 'proccessed'"),
    ("imap://u:p@h?idle_timeout=soon", "seconds"),
    ("imap://u:p@h imap://u:p@h", "used twice"),
])
def test_a_bad_mailbox_url_is_refused_without_showing_its_password(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        mailboxes_from_env(value.replace(":p@", ":hunter2@"))
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(mailbox_from_url("imap://u:hunter2@h"))


# -- intake --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_idle_delivers_a_message_appended_while_the_poller_waits(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], enqueued: Enqueued) -> None:
    # Polls only every 10 minutes: the second message can only come through IDLE.
    poller = make_poller(config_for(dovecot, poll_interval=600, idle_timeout=600))
    first = mail(1)
    dovecot.append(first)
    with running(poller):
        wait_for(lambda: len(rows(db)) == 1, 10, what="the message already in the mailbox")
        assert poller.session is not None and poller.session.idle
        second = mail(2, "非承認とさせていただきます。")
        dovecot.append(second)
        wait_for(lambda: len(rows(db)) == 2, 3, what="the message appended during IDLE")
        wait_for(lambda: all(processed(dovecot.flags()).values()), 3, what="both messages to be marked")
    stored = rows(db)
    assert [raw_of(db, r) for r in stored] == [first, second]
    assert {(r.channel, r.peer, r.mail_from, tuple(r.rcpt_tos)) for r in stored} == {("imap", "imap:partners",
                                                                                      None, ())}
    assert enqueued == [r.id for r in stored]
    # The gateway's mark is its own keyword: \Seen stays for the people reading the mailbox.
    assert all("\\Seen" not in f for f in dovecot.flags().values())


@pytest.mark.slow
@pytest.mark.parametrize("why", ["idle turned off", "server without IDLE"])
def test_the_poller_polls_when_idle_is_off_or_not_offered(
        why: str, db: Database, make_poller: Callable[..., ImapPoller]) -> None:
    with Dovecot(without={"IDLE"} if why == "server without IDLE" else ()) as server:
        poller = make_poller(config_for(server, idle=why != "idle turned off", poll_interval=0.3))
        with running(poller):
            wait_for(lambda: poller.session is not None, 10, what="the poller to connect")
            assert poller.session is not None and not poller.session.idle
            for n in range(3):
                server.append(mail(n))
            wait_for(lambda: len(rows(db)) == 3, 5, what="three polled messages")
            wait_for(lambda: all(processed(server.flags()).values()), 3, what="the messages to be marked")


class Crash(BaseException):
    """The process dying: nothing catches it."""


class CrashBeforeMarking(ImapPoller):
    def _mark(self, uids: list[int]) -> None:
        raise Crash()


@pytest.mark.slow
def test_a_crash_between_store_and_mark_neither_loses_nor_doubles_the_message(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], enqueued: Enqueued,
        redis_client: redis.Redis, prefix: str) -> None:
    raw = mail(1)
    uid = dovecot.append(raw)
    crashing = make_poller(config_for(dovecot), CrashBeforeMarking)
    with pytest.raises(Crash):
        crashing.poll_once()
    # Stored and committed, but not acknowledged to the mailbox, and the cursor did not move.
    assert len(rows(db)) == 1 and enqueued == [rows(db)[0].id]
    assert processed(dovecot.flags()) == {uid: False}
    assert cursor(redis_client, prefix) is None

    after_restart = make_poller(config_for(dovecot))
    assert after_restart.poll_once() == 1
    assert len(rows(db)) == 1, "the message was stored twice"
    assert enqueued == [rows(db)[0].id], "the message was enqueued twice"
    assert processed(dovecot.flags()) == {uid: True}
    assert cursor(redis_client, prefix) == f"{dovecot.uidvalidity()}:{uid}"
    assert after_restart.poll_once() == 0


@pytest.mark.slow
def test_a_new_uidvalidity_resets_the_cursor_and_doubles_nothing(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], enqueued: Enqueued,
        redis_client: redis.Redis, prefix: str) -> None:
    dovecot.create_folder("Fax")
    old = [mail(n) for n in range(3)]
    dovecot.append_many(old, "Fax")
    before = dovecot.uidvalidity("Fax")
    poller = make_poller(config_for(dovecot, folder="Fax"))
    with running(poller):
        wait_for(lambda: cursor(redis_client, prefix, folder="Fax") == f"{before}:3", 10, what="the first three")
        # Restored from a backup while the poller idles on it: the same three, without their
        # marks, under new UIDs 1-3 (at or below the old cursor) and a new UIDVALIDITY; and one new.
        after = dovecot.recreate_folder("Fax")
        dovecot.append_many([*old, mail(3)], "Fax")
        wait_for(lambda: cursor(redis_client, prefix, folder="Fax") == f"{after}:4", 10,
                 what="the cursor under the new UIDVALIDITY")
    assert processed(dovecot.flags("Fax")) == {1: True, 2: True, 3: True, 4: True}
    assert len(rows(db)) == 4
    assert sorted(enqueued) == [r.id for r in rows(db)]


@pytest.mark.slow
def test_the_poller_reconnects_after_a_server_restart(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller]) -> None:
    poller = make_poller(config_for(dovecot, poll_interval=600, idle_timeout=600))
    with running(poller):
        dovecot.append(mail(1))
        wait_for(lambda: len(rows(db)) == 1, 10, what="the first message")
        dovecot.stop()  # each IMAP process says BYE, as in a real shutdown
        wait_for(lambda: poller.client is None, 5, what="the poller to notice")
        threading.Event().wait(1.0)  # a few refused connections while the server is down
        dovecot.start()
        dovecot.append(mail(2))
        wait_for(lambda: len(rows(db)) == 2, 5, what="the message appended after the restart")
        wait_for(lambda: all(processed(dovecot.flags()).values()), 3, what="the marks")
        assert poller.session is not None and poller.session.idle


@pytest.mark.slow
def test_two_pollers_on_one_mailbox_take_turns(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], enqueued: Enqueued,
        redis_client: redis.Redis, prefix: str) -> None:
    first, second = make_poller(config_for(dovecot)), make_poller(config_for(dovecot))
    lease_key = f"{prefix}:imap-lock:partners"

    def holder() -> ImapPoller | None:
        token = redis_client.get(lease_key)
        return next((p for p in (first, second) if token is not None and p.lease.token.encode() == token), None)

    with running(first) as stop_first, running(second) as stop_second:
        stops = {first: stop_first, second: stop_second}
        def ready_holder() -> ImapPoller | None:
            found = holder()
            return found if found is not None and found.session is not None else None

        active = wait_for(ready_holder, 10, what="one poller to take the mailbox")
        assert active is not None
        waiting = second if active is first else first
        dovecot.append_many([mail(n) for n in range(5)])
        wait_for(lambda: len(rows(db)) == 5, 5, what="five messages")
        assert waiting.client is None, "the poller without the lease connected to the mailbox"
        assert holder() is active

        stops[active].set()
        wait_for(lambda: holder() is waiting and waiting.session is not None, 5,
                 what="the other poller to take over")
        dovecot.append(mail(5))
        wait_for(lambda: len(rows(db)) == 6, 5, what="the message after the takeover")
        wait_for(lambda: all(processed(dovecot.flags()).values()), 3, what="the marks")
    assert len(enqueued) == 6 and sorted(enqueued) == [r.id for r in rows(db)]


@pytest.mark.slow
def test_a_poller_that_died_holding_the_lease_is_replaced_when_the_lease_expires(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], redis_client: redis.Redis,
        prefix: str) -> None:
    redis_client.set(f"{prefix}:imap-lock:partners", "a-process-that-was-killed", px=1500)
    dovecot.append(mail(1))
    poller = make_poller(config_for(dovecot))
    with running(poller):
        threading.Event().wait(0.8)
        assert rows(db) == [] and poller.client is None
        wait_for(lambda: len(rows(db)) == 1, 5, what="the poller to take over the expired lease")


@pytest.mark.slow
def test_broken_messages_are_stored_as_received_and_marked(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller]) -> None:
    broken = [
        b"no header at all, just text\r\n",
        b"From: \xff\xfe\x81 <x@y>\r\nSubject: =?x-unknown?B?!!!?=\r\nContent-Type: multipart/mixed; "
        b"boundary=\"nope\"\r\n\r\n\xff\xfe garbage\r\n--nope\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
        b"Subject: " + b"x" * 3000 + b"\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B%F\r\n",
    ]
    dovecot.append_many([*broken, mail(9)])
    poller = make_poller(config_for(dovecot))
    assert poller.poll_once() == 4
    assert len(rows(db)) == 4
    assert {raw_of(db, r) for r in rows(db)} >= set(broken)
    assert processed(dovecot.flags()) == {1: True, 2: True, 3: True, 4: True}


@pytest.mark.slow
def test_a_message_that_cannot_be_stored_stays_unmarked_and_holds_up_nothing(
        dovecot: Dovecot, db: Database, make_poller: Callable[..., ImapPoller], redis_client: redis.Redis,
        prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_store = intake.store
    refused: list[bytes] = []

    def store_refusing_once(db: Database, raw: bytes, **kwargs: Any) -> intake.Stored:
        if b"POISON" in raw and not refused:
            refused.append(raw)
            raise IntakeError("could not store message: database is locked")
        return real_store(db, raw, **kwargs)

    monkeypatch.setattr(intake, "store", store_refusing_once)
    dovecot.append_many([mail(1), mail(2, "POISON"), mail(3)])
    validity = dovecot.uidvalidity()
    poller = make_poller(config_for(dovecot))
    assert poller.poll_once() == 2
    assert processed(dovecot.flags()) == {1: True, 2: False, 3: True}
    assert cursor(redis_client, prefix) == f"{validity}:1", "the cursor passed a message not yet stored"
    assert poller.poll_once() == 1
    assert processed(dovecot.flags()) == {1: True, 2: True, 3: True}
    # UID 3 was not searched again, so the cursor (a lower bound) stops at 2; that is enough.
    assert cursor(redis_client, prefix) == f"{validity}:2"
    assert len(rows(db)) == 3


@pytest.mark.slow
@pytest.mark.parametrize("without", [(), ("MOVE",)], ids=["MOVE", "COPY and UID EXPUNGE"])
def test_move_mode_moves_processed_mail_to_its_folder(
        without: tuple[str, ...], db: Database, make_poller: Callable[..., ImapPoller]) -> None:
    with Dovecot(without=without) as server:
        messages = [mail(n) for n in range(3)]
        server.append_many(messages)
        poller = make_poller(config_for(server, processed=Processed.MOVE))
        assert poller.poll_once() == 3
        # Dovecot's maildir separates levels with "."; the configured "Torii/Processed" follows it.
        assert "Torii.Processed" in server.folders()
        assert server.flags("INBOX") == {}
        assert len(server.flags("Torii.Processed")) == 3
        assert sorted(raw_of(db, r) for r in rows(db)) == sorted(messages)
        server.append(mail(3))
        assert poller.poll_once() == 1 and len(server.flags("Torii.Processed")) == 4


@pytest.mark.slow
@pytest.mark.parametrize("tls", [Tls.STARTTLS, Tls.SSL])
def test_tls_connections_verify_the_server_against_ca_file(
        tls: Tls, db: Database, make_poller: Callable[..., ImapPoller]) -> None:
    with Dovecot(tls=True) as server:
        server.append(mail(1))
        port = server.tls_port if tls is Tls.SSL else server.port
        poller = make_poller(config_for(server, tls=tls, port=port, ca_file=str(server.ca_file)))
        assert poller.poll_once() == 1
        untrusted = make_poller(config_for(server, tls=tls, port=port, name="untrusted"))
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.poll_once()


@pytest.mark.slow
def test_start_pollers_runs_one_thread_per_mailbox_and_stops_them(
        dovecot: Dovecot, db: Database, redis_url: str, prefix: str, enqueued: Enqueued) -> None:
    dovecot.create_folder("Fax")
    dovecot.append(mail(1))
    dovecot.append(mail(2), "Fax")
    configs = [config_for(dovecot), config_for(dovecot, name="fax", folder="Fax")]
    pollers = start_pollers(configs, db, enqueued, redis_url, prefix)
    try:
        assert [t.name for t in pollers.threads] == ["torii-imap-partners", "torii-imap-fax"]
        wait_for(lambda: len(rows(db)) == 2, 10, what="both mailboxes")
    finally:
        pollers.stop()
    assert not any(t.is_alive() for t in pollers.threads)
    assert len(enqueued) == 2
