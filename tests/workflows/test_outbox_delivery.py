"""The outbox and its delivery, in process: tasks run twice never mail twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.delivery import deliver
from gateway.dkim import DkimSigner, public_txt_record, verify
from gateway.transports import Envelope, SpoolTransport
from harness import make_dkim_key, make_invitation
from workflows import invitation
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import PermanentDeliveryError, TemporaryDeliveryError
from workflows.models import Event, Invitation, OutboundMessage


class CountingTransport:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[Envelope] = []
        self.fail = fail

    def send(self, envelope: Envelope) -> None:
        if self.fail:
            raise self.fail
        self.sent.append(envelope)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    queued: list[int] = []
    database = Database(f"sqlite:///{tmp_path / 'o.sqlite3'}", dispatch={OutboundMessage: queued.append})
    database.upgrade_schema()
    database.queued = queued  # type: ignore[attr-defined]
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain="torii.test")


def test_an_outbox_row_is_handed_to_delivery_only_after_commit(db: Database, settings: Settings) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        invitation.create(session, settings, {
            "issuer": {"company": "x", "name": "y", "email": "i@issuer.example"},
            "partner": {"company": "x", "name": "y", "email": "p@partner.example"},
        })
        raise RuntimeError("rolled back")
    assert db.queued == []  # type: ignore[attr-defined]
    _, outbound_id = make_invitation(db, settings)
    assert db.queued == [outbound_id]  # type: ignore[attr-defined]


def test_delivering_the_same_row_twice_sends_once(db: Database, settings: Settings) -> None:
    invitation_id, outbound_id = make_invitation(db, settings)
    transport = CountingTransport()
    deliver(db, settings, transport, outbound_id)
    deliver(db, settings, transport, outbound_id)
    assert len(transport.sent) == 1
    assert transport.sent[0].key.endswith("@torii.test")
    with db.sessions() as session:
        assert session.get(Invitation, invitation_id).state == "sent"  # type: ignore[union-attr]
        assert session.get(OutboundMessage, outbound_id).status == "sent"  # type: ignore[union-attr]


def test_a_temporary_failure_is_retried_and_a_permanent_one_is_recorded(db: Database, settings: Settings) -> None:
    invitation_id, outbound_id = make_invitation(db, settings)
    with pytest.raises(TemporaryDeliveryError):
        deliver(db, settings, CountingTransport(TemporaryDeliveryError("421 busy")), outbound_id)
    with db.sessions() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None and row.status == "queued" and row.last_error == "421 busy"
    deliver(db, settings, CountingTransport(PermanentDeliveryError("550 no such user")), outbound_id)
    with db.sessions() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None and row.status == "failed" and row.attempts == 2
        assert session.get(Invitation, invitation_id).state == "undeliverable"  # type: ignore[union-attr]


def test_a_claim_within_its_lease_is_not_sent_again(db: Database, settings: Settings) -> None:
    _, outbound_id = make_invitation(db, settings)

    class Dies:
        def send(self, envelope: Envelope) -> None:
            raise KeyboardInterrupt  # the worker dies mid-send, after the claim

    with pytest.raises(KeyboardInterrupt):
        deliver(db, settings, Dies(), outbound_id)
    transport = CountingTransport()
    deliver(db, settings, transport, outbound_id)
    assert transport.sent == []  # someone may still be sending it
    deliver(db, replace(settings, delivery_lease=0), transport, outbound_id)
    assert len(transport.sent) == 1  # the lease ran out: the sender is taken to be dead


def test_no_address_gets_more_automatic_mail_than_the_hourly_limit(db: Database, settings: Settings) -> None:
    limited = replace(settings, mail_hourly_limit=3)
    ids = []
    for _ in range(5):
        with db.transaction() as session:
            inv = invitation.create(session, limited, {
                "issuer": {"company": "発行", "name": "鈴木", "email": "i@issuer.example"},
                "partner": {"company": "取引先", "name": "山田", "email": "loop@partner.example"},
            })
            session.flush()
            ids.append(inv.id)
    with db.sessions() as session:
        sent_to = session.query(OutboundMessage).filter_by(to_addr="loop@partner.example").count()
        suppressed = session.query(Event).filter_by(kind="suppressed").all()
    assert sent_to == 3
    assert [e.object_id for e in suppressed] == ids[3:]
    assert "3 automatic mails to it within an hour" in suppressed[0].summary


def test_outbound_mail_is_dkim_signed_when_a_key_is_configured(db: Database, settings: Settings,
                                                                 tmp_path: Path) -> None:
    key = make_dkim_key(tmp_path, domain="torii.test", selector="torii")
    signer = DkimSigner("torii.test", "torii", key.private_pem)
    spool = SpoolTransport(tmp_path / "spool", signer)
    _, outbound_id = make_invitation(db, settings)
    deliver(db, settings, spool, outbound_id)
    (sent,) = (tmp_path / "spool").glob("*.eml")
    raw = sent.read_bytes()
    assert raw.startswith(b"DKIM-Signature:")
    records = {signer.record_name: public_txt_record(key.private_pem)}
    assert verify(raw, records)
    assert not verify(raw.replace(b"Subject:", b"Subject: [changed]"), records)
