"""What a sentence of an answer is read into: the kinds of words, the tokens found, the sentence itself.

Shared by every step of the reading (scanning, binding, reading), so it stands apart from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from parsers.order_reply.answer import CERTAIN
from parsers.units import Unit


class Kind(Enum):
    MASK = "mask"  # says nothing: cushions, conditionals, requests
    ALL_OUT = "all out of stock"
    NO_SHORT = "no shortfall"
    DECLINE = "decline"
    FULL = "everything as ordered"
    SHORT = "shortfall"
    LACK = "not enough"
    PENDING = "will answer later"
    LIMIT = "limit"
    REST = "the rest"
    EXCEPT = "exception"
    CONFIRM = "confirm"
    ITEM = "item"
    QTY = "quantity"


K = Kind


@dataclass
class Token:
    kind: Kind
    start: int
    end: int
    word: str
    weight: float = CERTAIN
    clause: int = 0
    lines: tuple[int, ...] = ()  # items: the lines the mention may be; empty for a position not on the order
    amount: Decimal | None = None  # quantities
    unit: Unit | None = None
    unit_word: str = ""
    total: Decimal | None = None  # "2 of the 5 boxes": 5
    total_unit: Unit | None = None
    taken: list[Token] = field(default_factory=list)  # the items (or "the rest") this word speaks of
    claimed: bool = False  # items: taken by a word
    bound: bool = False  # the answer word that gives an exception its sense; no answer by itself
    others_out: bool = False  # exceptions: "all out of stock except X" (the others are out, not X)

    def taken_items(self) -> list[Token]:
        """The order items this word speaks of, without "the rest"."""
        return [item for item in self.taken if item.kind is K.ITEM]

    def takes_rest(self) -> bool:
        return any(item.kind is K.REST for item in self.taken)


@dataclass(frozen=True)
class Sentence:
    line_no: int
    line: str  # the whole normalized line, for evidence
    said: str  # the sentence as written (normalized), for reasons
    text: str  # fold_compact of the sentence: what is scanned
    question: bool


@dataclass(frozen=True)
class Scan:
    tokens: list[Token]
    quiet: str  # the sentence with cushions, conditionals and dates masked: where gaps and unknown names are read
