"""After shipping: the delivery note, inspection (検品) per line, and what is still missing.

The order is delivered once every line it expects is inspected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.models import Order, OrderLine
from workflows.order.records import OBJECT_TYPE, lines_of
from workflows.order.states import fire
from workflows.order.values import parse_quantity
from workflows.timeline import record


def ship(session: Session, settings: Settings, order: Order, shipped_on: date | None = None) -> None:
    fire(session, settings, order, "ship", shipped_on=shipped_on)


def expected_quantity(line: OrderLine) -> Decimal:
    return line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity


def inspect(session: Session, settings: Settings, order: Order, body: Mapping[str, Any]) -> None:
    """Inspection (検品): what arrived, per line; delivered once every line is inspected."""
    if order.state != "shipped":
        raise InvalidRequest(f"only a shipped order can be inspected; order {order.number} is {order.state}")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines must be a non-empty list of {position, delivered_quantity}")
    lines = {line.position: line for line in lines_of(session, order)}
    now = clock.now()
    checked = []
    for raw in raw_lines:
        if not isinstance(raw, dict) or not isinstance(raw.get("position"), int) or raw["position"] not in lines:
            raise InvalidRequest(f"{raw!r}: position must name a line of the order")
        line = lines[raw["position"]]
        delivered = raw.get("delivered_quantity", str(expected_quantity(line)))
        line.delivered_quantity = parse_quantity(delivered, f"line {line.position}", allow_zero=True)
        line.inspected_at = now
        checked.append(f"{line.position}: {line.delivered_quantity}/{expected_quantity(line)} {line.unit}")
    record(session, OBJECT_TYPE, order.id, "inspection", "inspected " + ", ".join(checked))
    if all(line.inspected_at is not None or expected_quantity(line) == 0 for line in lines.values()):
        fire(session, settings, order, "deliver")


def undelivered_lines(lines: Sequence[OrderLine]) -> list[OrderLine]:
    return [line for line in lines if expected_quantity(line) > 0 and
            (line.inspected_at is None or (line.delivered_quantity or 0) < expected_quantity(line))]


UNDELIVERED_STATES = ("confirmed", "partially_confirmed", "shipped", "delivered")


def undelivered_clause() -> Any:
    """:func:`undelivered_lines` as SQL, for lists: an order with a line expecting more than inspection found.

    Quantities are stored as decimal text, so they are compared as numbers here, as above.
    """
    expected = func.coalesce(cast(OrderLine.confirmed_quantity, Numeric), cast(OrderLine.quantity, Numeric))
    missing = and_(OrderLine.order_id == Order.id, expected > 0,
                   or_(OrderLine.inspected_at.is_(None),
                       func.coalesce(cast(OrderLine.delivered_quantity, Numeric), 0) < expected))
    return and_(Order.state.in_(UNDELIVERED_STATES), exists(select(OrderLine.id).where(missing)))
