"""Durable intake, in process: a real aiosmtpd server and smtplib client over a real SQLite file."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import event, func, select, text

from gateway import intake
from gateway.smtpd import GroupCommit, IntakeHandler, SmtpServer, tls_context
from harness import free_port, make_tls_cert, wait_for
from workflows.db import Database
from workflows.errors import IntakeError
from workflows.models import InboundMessage, RawBlob

MAIL = (b"From: Yamada <yamada@partner.example>\r\nTo: reply+abc@torii.test\r\n"
        b"Subject: =?UTF-8?B?5om/6KqN?=\r\nMessage-ID: <m1@partner.example>\r\n\r\nOK\r\n")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    database.upgrade_schema()
    yield database
    database.dispose()


@pytest.fixture
def smtp(db: Database) -> Iterator[tuple[int, list[int]]]:
    enqueued: list[int] = []
    port = free_port()
    with SmtpServer(IntakeHandler(db, "torii.test", enqueued.append), "127.0.0.1", port, 10_000):
        yield port, enqueued


def test_store_keeps_raw_bytes_and_header_summary(db: Database) -> None:
    stored = intake.store(db, MAIL, channel="smtp", mail_from="yamada@partner.example",
                          rcpt_tos=["Reply+abc@torii.test"])
    with db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None
        assert row.message_id == "m1@partner.example"
        assert row.subject == "承認"
        assert row.rcpt_tos == ["reply+abc@torii.test"]
        assert row.size == len(MAIL)
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None and blob.data == MAIL


def test_a_message_relayed_twice_is_recorded_once(db: Database) -> None:
    first = intake.store(db, MAIL, channel="smtp", mail_from="", rcpt_tos=[])
    again = intake.store(db, b"Received: from mx2 by mx1; Sat, 21 Nov 2026 10:00:00 +0900\r\n" + MAIL,
                         channel="smtp", mail_from="", rcpt_tos=[])
    assert first.created and not again.created and again.id == first.id
    changed = intake.store(db, MAIL.replace(b"OK", b"NG"), channel="smtp", mail_from="", rcpt_tos=[])
    assert changed.created and changed.id != first.id


def test_headers_too_broken_to_read_still_store_the_bytes(db: Database) -> None:
    raw = b"\xff\xfe\x00garbage without any header\r\n\r\n\x00\x01"
    stored = intake.store(db, raw, channel="file", mail_from=None, rcpt_tos=[])
    with db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None and blob.data == raw


def test_smtp_answers_250_only_after_the_row_is_committed(db: Database, smtp: tuple[int, list[int]]) -> None:
    port, enqueued = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("yamada@partner.example", ["reply+abc@torii.test"], MAIL)
    # A second, independent connection sees the row the moment the client has its 250.
    other = Database(db.url)
    with other.sessions() as session:
        rows = session.scalars(select(InboundMessage)).all()
    other.dispose()
    assert [r.message_id for r in rows] == ["m1@partner.example"]
    assert enqueued == [rows[0].id]


def test_smtp_answers_451_when_the_message_cannot_be_stored(db: Database, smtp: tuple[int, list[int]]) -> None:
    port, enqueued = smtp
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE inbound_messages"))
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("yamada@partner.example")
        client.rcpt("reply+abc@torii.test")
        code, reply = client.data(MAIL)
    assert code == 451, reply
    assert enqueued == []


def test_smtp_refuses_relaying_to_other_domains(smtp: tuple[int, list[int]]) -> None:
    port, _ = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("a@b.example")
        code, reply = client.rcpt("victim@elsewhere.example")
    assert code == 550 and b"Relaying denied" in reply


def test_smtp_refuses_oversize_messages_with_552(smtp: tuple[int, list[int]]) -> None:
    port, enqueued = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("a@partner.example")
        client.rcpt("reply+abc@torii.test")
        code, _ = client.data(MAIL + (b"x" * 76 + b"\r\n") * 300)
    assert code == 552
    assert enqueued == []


def test_ehlo_offers_size_8bitmime_and_smtputf8(smtp: tuple[int, list[int]]) -> None:
    port, _ = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        assert client.has_extn("size") and client.esmtp_features["size"] == "10000"
        assert client.has_extn("8bitmime") and client.has_extn("smtputf8")
        assert not client.has_extn("starttls")


def test_smtputf8_addresses_are_accepted(db: Database, smtp: tuple[int, list[int]]) -> None:
    port, enqueued = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("山田@partner.example", ["reply+abc@torii.test"], MAIL,
                        mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    with db.sessions() as session:
        row = session.get(InboundMessage, enqueued[0])
        assert row is not None and row.mail_from == "山田@partner.example"


def test_too_many_recipients_are_refused_with_452(smtp: tuple[int, list[int]]) -> None:
    port, _ = smtp
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("a@partner.example")
        codes = [client.rcpt(f"reply+{i}@torii.test")[0] for i in range(101)]
    assert codes[:100] == [250] * 100 and codes[100] == 452


def test_starttls_with_the_configured_certificate(db: Database, tmp_path: Path) -> None:
    cert, key = make_tls_cert(tmp_path)
    enqueued: list[int] = []
    port = free_port()
    handler = IntakeHandler(db, "torii.test", enqueued.append)
    with SmtpServer(handler, "127.0.0.1", port, 10_000, tls=tls_context(cert, key)):
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=ssl.create_default_context(cafile=str(cert)))
            client.ehlo()
            client.sendmail("a@partner.example", ["reply+abc@torii.test"], MAIL)
    assert len(enqueued) == 1


def test_a_silent_client_is_disconnected_after_the_timeout(db: Database) -> None:
    port = free_port()
    with SmtpServer(IntakeHandler(db, "torii.test", lambda _id: None), "127.0.0.1", port, 10_000, timeout=0.5):
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            time.sleep(1.5)
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.noop()


def test_items_stored_together_share_one_commit_and_a_repeated_one_its_first_id(db: Database) -> None:
    relayed = b"Received: from mx2 by mx1; Sat, 21 Nov 2026 10:00:00 +0900\r\n" + MAIL
    other = MAIL.replace(b"m1@", b"m2@")
    enqueued: list[int] = []
    commits: list[object] = []
    event.listen(db.engine, "commit", commits.append)

    stored = intake.store_many(db, [intake.Arrival(raw, "smtp", "yamada@partner.example", ["reply+abc@torii.test"])
                                    for raw in (MAIL, other, relayed, MAIL)], enqueue=enqueued.append)

    assert len(commits) == 1
    assert [s.created for s in stored] == [True, True, False, False]
    assert stored[2].id == stored[3].id == stored[0].id != stored[1].id
    assert enqueued == [stored[0].id, stored[1].id]
    again = intake.store(db, relayed, channel="smtp", mail_from="", rcpt_tos=[])
    assert (again.id, again.created) == (stored[0].id, False)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RawBlob)) == 2  # a repeat keeps no bytes


def test_the_summary_takes_the_first_of_each_header_unfolded_and_decoded() -> None:
    raw = (b"subject: =?UTF-8?B?5om/6KqN?=\r\n =?UTF-8?B?44GX44G+44GZ?=\r\nFROM :  Yamada <y@partner.example>\r\n"
           b"Message-ID:\r\n <m9@partner.example>\r\nSubject: second\r\n\r\nFrom: in the body\r\n")
    assert intake._header_summary(raw) == ("m9@partner.example", "Yamada <y@partner.example>", "承認します")
    assert intake._header_summary(b"X-Other: 1\r\n\r\nSubject: body\r\n") == (None, None, None)
    assert "subject: 承認します" in intake.header_text(raw) and "in the body" not in intake.header_text(raw)


class ArrivalsCounted(IntakeHandler):
    """The intake handler, counting the messages whose DATA has ended."""

    arrived = 0

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        self.arrived += 1
        return await super().handle_DATA(server, session, envelope)


def test_messages_arriving_while_a_commit_waits_are_committed_together(db: Database) -> None:
    enqueued: list[int] = []
    commits: list[object] = []
    event.listen(db.engine, "commit", commits.append)
    handler = ArrivalsCounted(db, "torii.test", enqueued.append)
    port = free_port()
    mails = [MAIL.replace(b"m1@", f"m{i}@".encode()) for i in range(8)]
    answers: list[tuple[int, bytes]] = []

    def send(raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("yamada@partner.example")
            client.rcpt("reply+abc@torii.test")
            answers.append(client.data(raw))

    with SmtpServer(handler, "127.0.0.1", port, 10_000):
        # Another writer holds SQLite's write lock: the first commit waits, and the rest queue behind it.
        blocker = sqlite3.connect(db.engine.url.database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        clients = [threading.Thread(target=send, args=(raw,)) for raw in mails]
        for client in clients:
            client.start()
        wait_for(lambda: handler.arrived == len(mails), 30, 0.01, "every message to arrive")
        assert answers == []  # nobody has a 250 before its commit
        blocker.execute("COMMIT")
        blocker.close()
        for client in clients:
            client.join()

    assert sorted(code for code, _ in answers) == [250] * len(mails)
    # The first commit took those that had arrived when it began (one, or more if their DATA ended in the
    # same turn of the event loop); all the others waited for it and went in the second.
    assert len(commits) in (1, 2)
    assert len(set(enqueued)) == len(mails)


def test_a_message_the_database_refuses_fails_alone_in_its_group(db: Database) -> None:
    poison = MAIL.replace(b"m1@", b"poison@")

    def store(arrivals: list[intake.Arrival]) -> list[intake.Stored]:
        if any(a.raw == poison for a in arrivals):  # as a database refuses a value it cannot hold
            raise IntakeError("could not store message: invalid byte sequence") from ValueError("refused")
        return intake.store_many(db, arrivals)

    commits = GroupCommit(store)
    mails = [MAIL.replace(b"m1@", f"m{i}@".encode()) for i in range(3)] + [poison]

    async def arrive_together() -> list[intake.Stored | BaseException]:
        return await asyncio.gather(*(commits.store(intake.Arrival(raw, "smtp", "", [])) for raw in mails),
                                    return_exceptions=True)

    results = asyncio.run(arrive_together())

    assert [type(r).__name__ for r in results] == ["Stored", "Stored", "Stored", "IntakeError"]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 3
