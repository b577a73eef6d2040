"""Webhook events and their schedule, in process on a real database: what is emitted, when it is tried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from harness import make_invitation, private_database
from workflows import clock, invitation
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import InvalidRequest
from workflows.models import InboundMessage, Invitation, RawBlob
from workflows.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    deliveries,
    endpoints,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    queued: list[int] = []
    with private_database(tmp_path) as url:
        database = Database(url, dispatch={WebhookDelivery: queued.append})
        database.upgrade_schema()
        database.queued = queued  # type: ignore[attr-defined]
        yield database
        database.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain="torii.test",
                   webhook_retry_delays=(5.0, 60.0, 3600.0))


def endpoint(db: Database, *types: str, url: str = "https://platform.example/hooks") -> int:
    with db.transaction() as session:
        return endpoints.create_endpoint(session, url, types).id


def reject(db: Database, settings: Settings, invitation_id: int) -> None:
    with db.transaction() as session:
        inv = session.get(Invitation, invitation_id)
        assert inv is not None
        invitation.answer(session, settings, inv, "delivered")
        invitation.answer(session, settings, inv, "reject")


def events(db: Database) -> list[WebhookEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_a_state_change_writes_its_event_and_a_delivery_per_endpoint_that_wants_it(db: Database, settings: Settings
                                                                                   ) -> None:
    everything = endpoint(db)
    invitations_only = endpoint(db, "invitation.*")
    orders_only = endpoint(db, "order.confirmed", "order.declined")
    invitation_id, _ = make_invitation(db, settings)
    assert events(db) == []  # issued is no event
    reject(db, settings, invitation_id)

    written = events(db)
    assert [e.type for e in written] == ["invitation.sent", "invitation.rejected"]
    rejected = json.loads(written[1].body)
    assert rejected["type"] == "invitation.rejected"
    assert rejected["data"] == {**rejected["data"], "object": "invitation", "id": invitation_id,
                                "state": "rejected", "previous_state": "sent", "partner_company": "取引先物産"}
    assert rejected["timestamp"] == clock.now().isoformat()
    assert written[0].msg_id != written[1].msg_id and written[1].msg_id.startswith("msg_")
    with db.sessions() as session:
        rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == written[1].id))
        assert sorted(d.endpoint_id for d in rows) == [everything, invitations_only]
    with db.sessions() as session:
        assert session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == orders_only)).all() == []
        every = list(session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))
    # Each delivery was handed to the queue once its transaction committed.
    assert sorted(db.queued) == every and len(every) == 4  # type: ignore[attr-defined]


def test_a_rolled_back_change_emits_nothing(db: Database, settings: Settings) -> None:
    endpoint(db)
    invitation_id, _ = make_invitation(db, settings)
    with pytest.raises(RuntimeError), db.transaction() as session:
        inv = session.get(Invitation, invitation_id)
        assert inv is not None
        invitation.answer(session, settings, inv, "delivered")
        session.flush()
        raise RuntimeError("rolled back")
    assert events(db) == []
    assert db.queued == []  # type: ignore[attr-defined]


def test_a_message_going_to_review_is_an_event(db: Database, settings: Settings) -> None:
    endpoint(db, "message.needs_review")
    invitation_id, _ = make_invitation(db, settings)
    with db.transaction() as session:
        session.add(RawBlob(sha256="0" * 64, size=1, data=b"x"))
        session.flush()
        msg = InboundMessage(channel="smtp", size=1, sha256="0" * 64, dedup_key="k1", subject="Re: ご招待")
        session.add(msg)
        session.flush()
        msg.status, msg.reason = "review", "two answers in one reply"
        msg.object_type, msg.object_id = "invitation", invitation_id
    [event] = [e for e in events(db) if e.type == "message.needs_review"]
    data = json.loads(event.body)["data"]
    assert data["reason"] == "two answers in one reply" and data["object_id"] == invitation_id
    assert data["previous_status"] == "received"


def test_unknown_event_types_and_bad_urls_are_refused(db: Database) -> None:
    with pytest.raises(InvalidRequest, match="order.confirmd"), db.transaction() as session:
        endpoints.create_endpoint(session, "https://p.example/h", ["order.confirmd"])
    with pytest.raises(InvalidRequest, match="http"), db.transaction() as session:
        endpoints.create_endpoint(session, "ftp://p.example/h")
    with db.sessions() as session:
        assert session.scalars(select(WebhookEndpoint)).first() is None


def one_delivery(db: Database, settings: Settings) -> int:
    endpoint(db, "invitation.rejected")
    invitation_id, _ = make_invitation(db, settings)
    reject(db, settings, invitation_id)
    with db.sessions() as session:
        delivery_id = session.scalars(select(WebhookDelivery.id)).one()
    return delivery_id


def refuse(db: Database, settings: Settings, delivery_id: int, code: int | None = 500) -> float | None:
    with db.transaction() as session:
        attempt = deliveries.claim(session, settings, delivery_id)
        assert attempt is not None
    with db.transaction() as session:
        return deliveries.record(session, settings, delivery_id, status_code=code,
                                 error=None if code == 200 else "refused", duration_ms=3)


def status(db: Database, delivery_id: int) -> WebhookDelivery:
    with db.sessions() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        return delivery


def test_refused_tries_follow_the_schedule_then_fail(db: Database, settings: Settings,
                                                     frozen_clock: clock.FrozenClock) -> None:
    delivery_id = one_delivery(db, settings)
    assert refuse(db, settings, delivery_id) == 5.0
    assert status(db, delivery_id).status == DeliveryStatus.RETRYING
    with db.transaction() as session:  # not due yet
        assert deliveries.claim(session, settings, delivery_id) is None
    frozen_clock.move(seconds=5)
    assert refuse(db, settings, delivery_id) == 60.0
    frozen_clock.move(seconds=60)
    assert refuse(db, settings, delivery_id, None) == 3600.0
    frozen_clock.move(hours=1)
    assert refuse(db, settings, delivery_id) is None
    row = status(db, delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 4, 500)
    with db.sessions() as session:
        tries = list(session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)))
        assert [t.status_code for t in tries] == [500, 500, None, 500]

    # Sent again by an operator: a new round, the same event.
    with db.transaction() as session:
        assert deliveries.send_again(session, [delivery_id]) == [delivery_id]
    assert refuse(db, settings, delivery_id, 200) is None
    row = status(db, delivery_id)
    assert (row.status, row.attempts, row.delivered_at) == (DeliveryStatus.DELIVERED, 1, clock.now())


def test_a_claimed_try_is_nobody_elses_until_its_claim_runs_out(db: Database, settings: Settings,
                                                                frozen_clock: clock.FrozenClock) -> None:
    delivery_id = one_delivery(db, settings)
    with db.transaction() as session:
        first = deliveries.claim(session, settings, delivery_id)
    with db.transaction() as session:
        assert first is not None and deliveries.claim(session, settings, delivery_id) is None
    with db.sessions() as session:
        assert deliveries.due_ids(session, clock.now() + timedelta(minutes=5), 10) == []
    # The worker died mid-try: once the claim has run out the sweep finds it, and it is tried again.
    frozen_clock.move(seconds=settings.webhook_timeout + 31)
    with db.sessions() as session:
        assert deliveries.due_ids(session, clock.now(), 10) == [delivery_id]
    with db.transaction() as session:
        again = deliveries.claim(session, settings, delivery_id)
    assert again is not None and again.msg_id == first.msg_id and again.body == first.body


def test_a_disabled_endpoint_gets_nothing_more(db: Database, settings: Settings) -> None:
    delivery_id = one_delivery(db, settings)
    with db.transaction() as session:
        row = session.scalars(select(WebhookEndpoint)).one()
        endpoints.update_endpoint(row, disabled=True)
    with db.transaction() as session:
        assert deliveries.claim(session, settings, delivery_id) is None
    row_status = status(db, delivery_id)
    assert (row_status.status, row_status.last_error) == (DeliveryStatus.FAILED, "the endpoint is disabled")


def test_a_rotated_secret_signs_beside_the_new_one_for_the_overlap(db: Database, settings: Settings,
                                                                   frozen_clock: clock.FrozenClock) -> None:
    endpoint_id = endpoint(db)
    with db.transaction() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        old = row.secret
        new = endpoints.rotate_secret(row, timedelta(hours=24))
        assert new != old and new.startswith("whsec_")
        assert endpoints.signing_secrets(row) == (new, old)
        frozen_clock.move(hours=24, seconds=1)
        assert endpoints.signing_secrets(row) == (new,)
