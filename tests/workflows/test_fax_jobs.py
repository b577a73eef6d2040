"""Fax jobs, in process: queued in a transaction, sent once, finished by the service's report, retried."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from gateway import intake
from gateway.delivery import send_fax
from gateway.fax import EmailToFaxTransport, FaxSpoolTransport
from harness import CapturingTransport
from workflows import clock, inbound
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import InvalidRequest
from workflows.faxes import queue_fax
from workflows.models import Event, FaxJob, InboundMessage

pytestmark = pytest.mark.dates

PDF = b"%PDF-1.7\n% letter\n%%EOF\n"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    dispatched: list[int] = []
    database = Database(f"sqlite:///{tmp_path / 'f.sqlite3'}", dispatch={FaxJob: dispatched.append})
    database.upgrade_schema()
    database.dispatched = dispatched  # type: ignore[attr-defined]
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain="torii.test")


def new_job(db: Database, number: str = "03-1234-5678") -> int:
    with db.transaction() as session:
        return queue_fax(session, object_type="invitation", object_id=1, kind="invitation_letter",
                         number=number, title="ご招待", pdf=PDF).id


def job(db: Database, job_id: int) -> FaxJob:
    with db.sessions() as session:
        found = session.get(FaxJob, job_id)
        assert found is not None
        return found


def report(db: Database, settings: Settings, subject: str, text: str) -> InboundMessage:
    raw = (f"From: report@fax.example.net\r\nTo: fax@torii.test\r\nSubject: {subject}\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode()
    stored = intake.store(db, raw, channel="smtp", mail_from="report@fax.example.net", rcpt_tos=["fax@torii.test"])
    inbound.process(db, settings, stored.id)
    with db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None
        return row


def test_a_job_is_dispatched_after_commit_and_the_spool_sends_it_once(db: Database, settings: Settings,
                                                                       tmp_path: Path) -> None:
    job_id = new_job(db)
    assert db.dispatched == [job_id]  # type: ignore[attr-defined]
    assert job(db, job_id).number == "+81312345678"
    spool = FaxSpoolTransport(tmp_path / "fax")
    send_fax(db, settings, spool, job_id)
    send_fax(db, settings, spool, job_id)
    done = job(db, job_id)
    assert (done.status, done.attempts) == ("sent", 1)
    assert (tmp_path / "fax" / f"fax-{job_id}.pdf").read_bytes() == PDF


def test_a_number_that_cannot_be_dialled_is_refused_when_queued(db: Database) -> None:
    with pytest.raises(InvalidRequest, match="10 or 11 digits"):
        new_job(db, number="03-1234")


def test_a_mailed_fax_waits_for_the_report_and_busy_lines_are_retried(db: Database, settings: Settings,
                                                                      frozen_clock: clock.FrozenClock) -> None:
    mail = CapturingTransport()
    service = EmailToFaxTransport(mail, "fax.example.net", "fax@torii.test", "torii.test")
    job_id = new_job(db)
    send_fax(db, settings, service, job_id)
    assert job(db, job_id).status == "sending"
    assert mail.sent[0].rcpt_tos == ("0312345678@fax.example.net",)

    busy = report(db, settings, f"[FAX-{job_id}] 送信結果", "送信できませんでした（話中）")
    assert (busy.status, busy.kind) == ("processed", "fax_report")
    retry = job(db, job_id)
    assert (retry.status, retry.failure) == ("queued", "busy")
    assert retry.next_attempt_at > clock.now() + timedelta(minutes=4)

    frozen_clock.move(minutes=4, seconds=59)
    send_fax(db, settings, service, job_id)  # not due yet: nothing happens
    assert len(mail.sent) == 1
    frozen_clock.move(seconds=1)
    send_fax(db, settings, service, job_id)
    assert len(mail.sent) == 2 and job(db, job_id).attempts == 2

    report(db, settings, f"[FAX-{job_id}] 送信結果", "FAX送信に成功しました。")
    assert job(db, job_id).status == "sent"
    with db.sessions() as session:
        summaries = [e.summary for e in session.query(Event).filter_by(fax_job_id=job_id).order_by(Event.id)]
    assert summaries[0].startswith("invitation_letter fax queued")
    assert any("next try in 5 min" in s for s in summaries)
    assert summaries[-1].endswith("sent")


def test_a_bad_number_report_fails_the_job_for_good(db: Database, settings: Settings) -> None:
    service = EmailToFaxTransport(CapturingTransport(), "fax.example.net", "fax@torii.test", "torii.test")
    job_id = new_job(db)
    send_fax(db, settings, service, job_id)
    report(db, settings, f"Fax report FAX-{job_id}", "Transmission failed: invalid fax number")
    failed = job(db, job_id)
    assert (failed.status, failed.failure) == ("failed", "bad_number")
