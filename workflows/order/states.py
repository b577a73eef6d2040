"""The order's state table: which event leads where, what each transition does, and answers.

The supplier answers confirm, partial (with the quantity it can deliver per line) or
decline, and may change its answer until the order is shipped; each change reaches the
buyer as an order confirmation and the supplier as an acknowledgement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from workflows import clock
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.machine import Machine, Refusal, Transition
from workflows.models import InboundMessage, Order
from workflows.order.notices import mail_buyer, tell_supplier
from workflows.order.records import OBJECT_TYPE, lines_of, sheet_for, store_document
from workflows.order.values import date_from, quantities_from
from workflows.order_documents.rendering import render_delivery_note
from workflows.timeline import record

ANSWERS = frozenset({"confirm", "partial", "decline"})


@dataclass
class OrderContext:
    session: Session
    settings: Settings
    order: Order
    inbound: InboundMessage | None = None
    quantities: dict[int, Decimal] = field(default_factory=dict)
    delivery_date: date | None = None
    shipped_on: date | None = None
    source_state: str = ""


def _apply_answer(ctx: OrderContext) -> None:
    order = ctx.order  # already in the state the answer leads to
    for line in lines_of(ctx.session, order):
        if order.state == "confirmed":
            line.confirmed_quantity = line.quantity
        elif order.state == "declined":
            line.confirmed_quantity = Decimal(0)
        else:
            line.confirmed_quantity = ctx.quantities.get(line.position, line.quantity)
    if ctx.delivery_date is not None:
        order.delivery_date = ctx.delivery_date
    if order.state == "declined":
        order.delivery_date = None
    order.flag = None  # the supplier answered: nothing is overdue or stuck any more


def _confirm_to_buyer(ctx: OrderContext) -> None:
    mail_buyer(ctx.session, ctx.settings, ctx.order, "order_confirmation", inbound=ctx.inbound)


def _acknowledge_to_supplier(ctx: OrderContext) -> None:
    tell_supplier(ctx.session, ctx.settings, ctx.order, "order_acknowledgement", inbound=ctx.inbound)


def _ship(ctx: OrderContext) -> None:
    order = ctx.order
    order.shipped_on = ctx.shipped_on or clock.today()
    pdf = render_delivery_note(sheet_for(ctx.session, order), shipped_on=order.shipped_on)
    store_document(ctx.session, order, "delivery_note", pdf)


def _delivered(ctx: OrderContext) -> None:
    ctx.order.delivered_at = clock.now()


def _flag_undeliverable(ctx: OrderContext) -> None:
    ctx.order.flag = "the order sheet could not be delivered by fax or mail: call the supplier"


ANSWERABLE = frozenset({"placed", "sent", "undeliverable"})
SUPPLIER_CHANGES = (_apply_answer, _confirm_to_buyer, _acknowledge_to_supplier)
NOT_AFTER_SHIPPING = "the order is already shipped; a change must be agreed with the buyer directly"

MACHINE: Machine[OrderContext] = Machine(
    name="order",
    states=("placed", "sent", "confirmed", "partially_confirmed", "declined", "shipped", "delivered",
            "undeliverable"),
    initial="placed",
    final=frozenset({"delivered"}),
    transitions=(
        Transition("sent", frozenset({"placed"}), "sent"),
        Transition("undeliverable", frozenset({"placed"}), "undeliverable", (_flag_undeliverable,)),
        Transition("confirm", ANSWERABLE | {"partially_confirmed", "declined"}, "confirmed", SUPPLIER_CHANGES),
        Transition("partial", ANSWERABLE | {"confirmed", "partially_confirmed", "declined"}, "partially_confirmed",
                   SUPPLIER_CHANGES),
        Transition("decline", ANSWERABLE | {"confirmed", "partially_confirmed"}, "declined", SUPPLIER_CHANGES),
        Transition("ship", frozenset({"confirmed", "partially_confirmed"}), "shipped",
                   (_ship, _confirm_to_buyer)),
        Transition("deliver", frozenset({"shipped"}), "delivered", (_delivered,)),
    ),
    refusals=(
        Refusal("confirm", frozenset({"confirmed"}), "the order is already confirmed"),
        Refusal("decline", frozenset({"declined"}), "the order is already declined"),
        Refusal("confirm", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("partial", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("decline", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("ship", ANSWERABLE | {"declined"}, "only a confirmed order can be shipped"),
        Refusal("ship", frozenset({"shipped", "delivered"}), "the order is already shipped"),
    ),
)


def fire(session: Session, settings: Settings, order: Order, trigger: str, *,
         inbound: InboundMessage | None = None, quantities: Mapping[int, Decimal] | None = None,
         delivery_date: date | None = None, shipped_on: date | None = None) -> None:
    """Apply one event and record the transition; raises TransitionRefused, having run its effects."""
    ctx = OrderContext(session=session, settings=settings, order=order, inbound=inbound,
                       quantities=dict(quantities or {}), delivery_date=delivery_date, shipped_on=shipped_on,
                       source_state=order.state)
    if trigger == "partial":
        _check_partial(session, order, ctx.quantities)
    MACHINE.fire(order, trigger, ctx)
    record(session, OBJECT_TYPE, order.id, "transition", f"{trigger}: {ctx.source_state} → {order.state}",
           inbound_id=inbound.id if inbound else None, trigger=trigger, source=ctx.source_state, dest=order.state,
           quantities={str(k): str(v) for k, v in sorted(ctx.quantities.items())},
           delivery_date=delivery_date.isoformat() if delivery_date else None)


def _check_partial(session: Session, order: Order, quantities: Mapping[int, Decimal]) -> None:
    lines = {line.position: line for line in lines_of(session, order)}
    if not quantities:
        raise InvalidRequest("a partial confirmation needs the quantity that can be delivered per line")
    for position, quantity in quantities.items():
        line = lines.get(position)
        if line is None:
            raise InvalidRequest(f"the order has no line {position}")
        if quantity < 0 or quantity > line.quantity:
            raise InvalidRequest(f"line {position}: {quantity} is not between 0 and the {line.quantity} ordered")


def answer(session: Session, settings: Settings, order: Order, trigger: str, *,
           inbound: InboundMessage | None = None, details: Mapping[str, object] | None = None) -> None:
    """The supplier's answer (from a mail, a faxed-back sheet or an operator): the reading's data applied."""
    details = details or {}
    fire(session, settings, order, trigger, inbound=inbound, quantities=quantities_from(details.get("quantities")),
         delivery_date=date_from(details.get("delivery_date")))
