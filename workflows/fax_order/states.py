"""The fax order's state table, and the one way through it that records every move on the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflows.config import Settings
from workflows.machine import Machine, Refusal, Transition
from workflows.models import FaxOrder
from workflows.timeline import record

OBJECT_TYPE = "fax_order"


@dataclass
class FaxOrderContext:
    session: Session
    settings: Settings
    fax_order: FaxOrder
    source_state: str = ""


MACHINE: Machine[FaxOrderContext] = Machine(
    name="fax_order",
    states=("received", "parsed", "needs_review", "accepted", "confirmation_sent", "discarded"),
    initial="received",
    final=frozenset({"confirmation_sent", "discarded"}),
    transitions=(
        Transition("parse", frozenset({"received"}), "parsed"),
        Transition("review", frozenset({"parsed"}), "needs_review"),
        Transition("accept", frozenset({"parsed", "needs_review"}), "accepted"),
        Transition("discard", frozenset({"needs_review"}), "discarded"),
        Transition("confirmed", frozenset({"accepted"}), "confirmation_sent"),
    ),
    refusals=(
        Refusal("accept", frozenset({"accepted", "confirmation_sent"}), "the fax order is already accepted"),
        Refusal("discard", frozenset({"accepted", "confirmation_sent"}),
                "the fax order is already accepted: cancel its order with the supplier instead"),
        Refusal("accept", frozenset({"discarded"}), "the fax order was discarded"),
    ),
)


def fire(session: Session, settings: Settings, fax_order: FaxOrder, trigger: str, summary: str = "",
         **data: Any) -> None:
    ctx = FaxOrderContext(session, settings, fax_order, fax_order.state)
    MACHINE.fire(fax_order, trigger, ctx)
    record(session, OBJECT_TYPE, fax_order.id, "transition",
           f"{trigger}: {ctx.source_state} → {fax_order.state}" + (f" ({summary})" if summary else ""),
           inbound_id=fax_order.inbound_id, trigger=trigger, source=ctx.source_state, dest=fax_order.state, **data)

