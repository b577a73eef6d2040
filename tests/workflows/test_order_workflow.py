"""The order workflow in process: its table, what each answer does to the lines, inspection, timers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from workflows import clock
from workflows import order as orders
from workflows.catalog.register import put_product
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import InvalidRequest, TransitionRefused
from workflows.models import Buyer, DeliveryAddress, Order, OrderLine, OutboundMessage, Supplier

pytestmark = pytest.mark.dates


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain="torii.test", home=tmp_path)


def new_order(db: Database, settings: Settings, channel: str = "mail", **extra: object) -> int:
    with db.transaction() as session:
        buyer = Buyer(name=f"花子食堂 {clock.now().timestamp()}", email="buyer@hanako.example")
        session.add(buyer)
        session.flush()
        session.add(DeliveryAddress(buyer_id=buyer.id, name="本店", address="東京都渋谷区1-2-3"))
        supplier = Supplier(buyer_id=buyer.id, name="八百屋山田", channel=channel, email="y@yaoya.example",
                            fax_number="+81312345678")
        session.add(supplier)
        session.flush()
        put_product(session, supplier.id, {"name": "トマト", "unit": "ケース", "unit_price": 3200})
        put_product(session, supplier.id, {"name": "キャベツ", "unit": "個", "unit_price": 180})
        body = {"buyer_id": buyer.id, "supplier_id": supplier.id, "orderer_name": "佐藤",
                "lines": [{"product_name": "トマト", "quantity": "5"}, {"product_name": "ｷｬﾍﾞﾂ", "quantity": "１０"}]}
        return orders.create(session, settings, body | extra).id


def fire(db: Database, settings: Settings, order_id: int, trigger: str, **kwargs: object) -> Order:
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        orders.fire(session, settings, found, trigger, **kwargs)  # type: ignore[arg-type]
        return found


def confirmed(db: Database, order_id: int) -> list[Decimal | None]:
    with db.sessions() as session:
        return list(session.scalars(select(OrderLine.confirmed_quantity).where(OrderLine.order_id == order_id)
                                    .order_by(OrderLine.position)))


def kinds(db: Database, order_id: int) -> list[str]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboundMessage.kind).where(OutboundMessage.object_type == "order",
                                                                       OutboundMessage.object_id == order_id)
                                    .order_by(OutboundMessage.id)))


def test_delivered_is_final_and_every_state_is_reachable() -> None:
    machine = orders.MACHINE
    assert machine.final == frozenset({"delivered"})
    reachable = {machine.initial} | {t.dest for t in machine.transitions}
    assert reachable == set(machine.states)


def test_an_order_names_products_by_normalized_name_and_keeps_exact_quantities(db: Database,
                                                                               settings: Settings) -> None:
    order_id = new_order(db, settings)
    with db.sessions() as session:
        placed = session.get(Order, order_id)
        assert placed is not None and placed.number.startswith("PO-") and placed.state == "placed"
        lines = orders.lines_of(session, placed)
        assert [(line.product_name, line.quantity, line.unit_price) for line in lines] == \
            [("トマト", Decimal(5), 3200), ("キャベツ", Decimal(10), 180)]
        assert orders.total_of(lines) == 5 * 3200 + 10 * 180
        assert placed.delivery["name"] == "本店"
    assert kinds(db, order_id) == ["order_sheet"]


@pytest.mark.parametrize(("body", "message"), [
    ({"lines": []}, "non-empty list"),
    ({"lines": [{"product_name": "ピーマン", "quantity": 1}]}, "is not a product"),
    ({"lines": [{"product_name": "トマト", "quantity": 0}]}, "not a quantity"),
    ({"lines": [{"product_name": "トマト", "quantity": "1.2345"}]}, "three decimals"),
    ({"lines": [{"product_name": "トマト", "quantity": True}]}, "is a number"),
    ({"desired_date": "2001-01-01"}, "in the past"),
    ({"orderer_name": ""}, "orderer_name is required"),
])
def test_a_bad_order_is_refused_with_its_reason_and_nothing_is_kept(db: Database, settings: Settings,
                                                                   body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        new_order(db, settings, **body)
    with db.sessions() as session:
        assert session.scalar(select(Order.id).limit(1)) is None


def test_partial_keeps_unnamed_lines_and_refuses_more_than_was_ordered(db: Database, settings: Settings) -> None:
    order_id = new_order(db, settings)
    with pytest.raises(InvalidRequest, match="between 0 and the 5 ordered"):
        fire(db, settings, order_id, "partial", quantities={1: Decimal(6)})
    with pytest.raises(InvalidRequest, match="no line 7"):
        fire(db, settings, order_id, "partial", quantities={7: Decimal(1)})
    fire(db, settings, order_id, "partial", quantities={1: Decimal(3)}, delivery_date=date(2030, 1, 15))
    assert confirmed(db, order_id) == [Decimal(3), Decimal(10)]
    assert kinds(db, order_id) == ["order_sheet", "order_confirmation", "order_acknowledgement"]


def test_decline_then_confirm_is_a_change_but_confirm_twice_is_refused(db: Database, settings: Settings) -> None:
    order_id = new_order(db, settings)
    fire(db, settings, order_id, "decline")
    assert confirmed(db, order_id) == [Decimal(0), Decimal(0)]
    fire(db, settings, order_id, "confirm")
    assert confirmed(db, order_id) == [Decimal(5), Decimal(10)]
    with pytest.raises(TransitionRefused, match="already confirmed"):
        fire(db, settings, order_id, "confirm")


def test_after_shipping_the_supplier_can_no_longer_change_its_answer(db: Database, settings: Settings) -> None:
    order_id = new_order(db, settings)
    with pytest.raises(TransitionRefused, match="only a confirmed order"):
        fire(db, settings, order_id, "ship")
    fire(db, settings, order_id, "confirm")
    fire(db, settings, order_id, "ship", shipped_on=date(2030, 1, 16))
    for trigger in ("confirm", "partial", "decline"):
        with pytest.raises(TransitionRefused, match="already shipped"):
            fire(db, settings, order_id, trigger, quantities={1: Decimal(1)})
    with db.sessions() as session:
        note = orders.latest_document(session, order_id, "delivery_note")
        assert note is not None and note.data.startswith(b"%PDF")


def test_inspection_lists_what_is_missing_and_delivers_when_every_line_is_checked(db: Database,
                                                                                  settings: Settings) -> None:
    order_id = new_order(db, settings)
    fire(db, settings, order_id, "partial", quantities={2: Decimal(0)})
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        with pytest.raises(InvalidRequest, match="only a shipped order"):
            orders.inspect(session, settings, found, {"lines": [{"position": 1}]})
    fire(db, settings, order_id, "ship")
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        orders.inspect(session, settings, found, {"lines": [{"position": 1, "delivered_quantity": "4"}]})
        # Line 2 was out of stock: nothing to inspect there; line 1 is short by one case.
        assert found.state == "delivered"
        assert [line.position for line in orders.undelivered_lines(orders.lines_of(session, found))] == [1]


def test_an_overdue_order_is_reminded_once(db: Database, settings: Settings, frozen_clock: clock.FrozenClock) -> None:
    order_id = new_order(db, settings)
    frozen_clock.move(hours=settings.order_answer_hours, seconds=-1)
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        assert not orders.remind(session, settings, found)  # not due yet
    with db.sessions() as session:
        assert orders.overdue_ids(session, clock.now(), 10) == []
    frozen_clock.move(seconds=1)
    with db.sessions() as session:
        assert orders.overdue_ids(session, clock.now(), 10) == [order_id]
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        assert orders.remind(session, settings, found)
        assert not orders.remind(session, settings, found)
        assert found.flag is not None and "no answer" in found.flag
    with db.sessions() as session:
        assert orders.overdue_ids(session, clock.now(), 10) == []
    assert kinds(db, order_id) == ["order_sheet", "order_reminder", "order_overdue"]


def test_a_fax_only_supplier_gets_its_acknowledgement_by_fax(db: Database, settings: Settings) -> None:
    order_id = new_order(db, settings, channel="fax")
    with db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        supplier = session.get(Supplier, found.supplier_id)
        assert supplier is not None
        supplier.email = None
    fire(db, settings, order_id, "confirm")
    from workflows.models import FaxJob

    with db.sessions() as session:
        jobs = list(session.scalars(select(FaxJob.kind).where(FaxJob.object_id == order_id)))
    assert jobs == ["order_sheet", "order_acknowledgement"]
    assert kinds(db, order_id) == ["order_confirmation"]  # the buyer's, by mail
