"""What reading an answer to an order takes and gives: the order's lines, the answer, its confidence scale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = ["OrderIntent", "LineRef", "OrderAnswer"]


class OrderIntent(StrEnum):
    CONFIRM = "confirm"
    PARTIAL = "partial"
    DECLINE = "decline"


@dataclass(frozen=True)
class LineRef:
    """One line of the order, as the parser needs it."""

    position: int  # 1-based line number on the order sheet
    product_name: str
    quantity: Decimal
    unit: str  # as ordered: "ケース", "kg", "本"


@dataclass(frozen=True)
class OrderAnswer:
    intent: OrderIntent | None  # None: unclear
    confidence: float  # 0..1; the pipeline sends < 0.8 to human review
    reasons: tuple[str, ...]
    quantities: Mapping[int, Decimal]  # PARTIAL only: every line's deliverable quantity; empty otherwise
    delivery_date: date | None  # a delivery date the supplier states
    evidence: str | None  # the words the answer was read from


# Weights: a clear word is CERTAIN or STRONG; WEAK words pass the pipeline's bar (0.8) alone;
# VAGUE ones (and readings that want a person's look) stay under it.
CERTAIN = 0.95
STRONG = 0.9
WEAK = 0.85
VAGUE = 0.75
ASKS = 0.7  # an answer that also asks something
UNCLEAR = 0.3
