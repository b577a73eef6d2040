"""The pipeline's end of hostile input: over a limit a message goes to review with "too large: ...", the next one is
processed; a message whose attempts kept dying is failed after a bounded number of them, and the sweep stops at it.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import intake
from gateway.sweep import sweep
from parsers.limits import Limits
from samples import hostile
from workflows import clock, inbound
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.inbound import attempts
from workflows.models import InboundMessage

DOMAIN = "torii.test"


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain=DOMAIN, home=tmp_path,
                   fax_order_address=f"fax-orders@{DOMAIN}", inbound_max_attempts=3)


def stored(db: Database, raw: bytes, rcpt: str = f"someone@{DOMAIN}") -> int:
    return intake.store(db, raw, channel="smtp", mail_from="partner@partner.example", rcpt_tos=[rcpt]).id


def row_of(db: Database, inbound_id: int) -> InboundMessage:
    with db.sessions() as session:
        found = session.get(InboundMessage, inbound_id)
        assert found is not None
        return found


def a_reply(n: int) -> bytes:
    return (f"From: partner@partner.example\r\nTo: someone@{DOMAIN}\r\nSubject: hello {n}\r\n"
            f"Message-ID: <plain-{n}@partner.example>\r\n\r\nこんにちは\r\n").encode()


@pytest.mark.parametrize(("raw", "reason"), [
    (hostile.many_parts_mail(5000, to=f"someone@{DOMAIN}"), r"too large: more than 2000 MIME parts"),
    (hostile.deep_mail(5000, to=f"someone@{DOMAIN}"), r"too large: MIME nesting deeper than 30 levels"),
    (hostile.huge_header_mail(hostile.MiB, to=f"someone@{DOMAIN}"), r"too large: the header is 10\d\d KiB \(at most "
                                                                     r"256 KiB\)"),
], ids=["5000-parts", "5000-deep", "1-MiB-header"])
def test_a_mail_over_the_mime_limits_goes_to_review_and_the_next_is_processed(db: Database, settings: Settings,
                                                                               raw: bytes, reason: str) -> None:
    outcome = inbound.process(db, settings, stored(db, raw))

    assert outcome is not None and outcome.status == "review" and re.fullmatch(reason, outcome.reason or "")
    following = inbound.process(db, settings, stored(db, a_reply(1)))  # the same worker, the next message
    assert following is not None and following.status == "unmatched"


@pytest.mark.parametrize("rcpt", [f"fax-orders@{DOMAIN}", f"fax@{DOMAIN}"], ids=["fax-order", "fax-back"])
def test_a_fax_whose_pdf_inflates_to_a_gibibyte_gets_its_reason_in_seconds(db: Database, settings: Settings,
                                                                           rcpt: str) -> None:
    inbound_id = stored(db, hostile.fax_mail(hostile.bomb_pdf(), "bomb.pdf", to=rcpt), rcpt)
    started = time.monotonic()

    outcome = inbound.process(db, settings, inbound_id)

    assert outcome is not None and outcome.status == "review"
    assert outcome.reason == "too large: PDF page 1 content inflates past 64 MiB (bomb.pdf)"
    assert time.monotonic() - started < 20
    assert row_of(db, inbound_id).attempts == 1


def test_the_reading_limits_are_the_settings(db: Database, settings: Settings) -> None:
    settings = replace(settings, limits=Limits(mime_parts=10))
    outcome = inbound.process(db, settings, stored(db, hostile.many_parts_mail(11, to=f"someone@{DOMAIN}")))

    assert outcome is not None and outcome.reason == "too large: more than 10 MIME parts"


def test_a_message_whose_attempts_all_died_is_failed_with_the_count_and_never_swept_again(
        db: Database, settings: Settings, frozen_clock: clock.FrozenClock) -> None:
    inbound_id = stored(db, a_reply(2))
    # What three workers killed in the middle of it leave behind: attempts begun, none ended.
    for number in (1, 2, 3):
        claim = attempts.claim(db, settings, inbound_id)
        assert isinstance(claim, attempts.Claim) and claim.attempt == number

    outcome = inbound.process(db, settings, inbound_id)

    assert outcome is not None and (outcome.status, outcome.reason) == ("failed",
                                                                        "worker died 3 times while processing it")
    assert (row_of(db, inbound_id).status, row_of(db, inbound_id).attempts) == ("failed", 3)
    assert inbound.process(db, settings, inbound_id) is None
    frozen_clock.move(hours=1)
    enqueued: list[int] = []
    sweep(db, settings, enqueued.append, lambda _: None)
    assert enqueued == []


def test_an_attempt_that_ends_counts_once_and_one_cut_short_is_taken_again(db: Database, settings: Settings,
                                                                          frozen_clock: clock.FrozenClock) -> None:
    first, second = stored(db, a_reply(3)), stored(db, a_reply(4))
    assert inbound.process(db, settings, first) is not None
    assert row_of(db, first).attempts == 1
    assert isinstance(attempts.claim(db, settings, second), attempts.Claim)  # and its worker dies

    frozen_clock.move(seconds=settings.sweep_grace + 1)
    enqueued: list[int] = []
    sweep(db, settings, enqueued.append, lambda _: None)

    assert enqueued == [second]
    outcome = inbound.process(db, settings, second)
    assert outcome is not None and outcome.status != "received"
    assert row_of(db, second).attempts == 2


def test_a_live_attempt_keeps_its_message_from_the_sweep(db: Database, settings: Settings,
                                                        frozen_clock: clock.FrozenClock) -> None:
    settings = replace(settings, sweep_grace=0.6)
    inbound_id = stored(db, a_reply(5))
    assert isinstance(attempts.claim(db, settings, inbound_id), attempts.Claim)
    enqueued: list[int] = []

    with attempts.held(db, settings, inbound_id):  # a slow attempt, alive: it touches the row every 0.2 s
        for _ in range(3):
            frozen_clock.move(seconds=0.5)
            time.sleep(0.45)
            sweep(db, settings, enqueued.append, lambda _: None)
        assert enqueued == []

    frozen_clock.move(seconds=1)  # it has ended without storing anything: as if it had died
    sweep(db, settings, enqueued.append, lambda _: None)
    assert enqueued == [inbound_id]


def test_an_attempt_the_database_cut_short_is_released_and_does_not_count(db: Database, settings: Settings) -> None:
    inbound_id = stored(db, a_reply(6))
    assert isinstance(attempts.claim(db, settings, inbound_id), attempts.Claim)

    attempts.release(db, inbound_id)

    row = row_of(db, inbound_id)
    assert (row.status, row.attempts, row.attempted_at) == ("received", 0, None)
