"""What the order's documents print, as plain data: the order as it was when ordered, and a buyer's form.

The documents are drawn from these alone, never from the database, so a sheet
printed again says what it said the first time (names included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from workflows.clock import TOKYO
from workflows.order_documents.geometry import LINES_PER_PAGE


@dataclass(frozen=True)
class SheetLine:
    """One line of the order as printed: ``unit_price`` in yen, tax excluded (None: not known)."""

    position: int
    product_name: str
    quantity: Decimal
    unit: str
    unit_price: int | None
    note: str = ""
    delivered_quantity: Decimal | None = None  # what the delivery note says will be delivered

    @property
    def amount(self) -> int | None:
        """quantity × unit price, rounded half up to the yen; None without a price."""
        return None if self.unit_price is None else _yen(self.quantity * self.unit_price)

    @property
    def to_deliver(self) -> Decimal:
        return self.quantity if self.delivered_quantity is None else self.delivered_quantity

    @property
    def delivered_amount(self) -> int | None:
        return None if self.unit_price is None else _yen(self.to_deliver * self.unit_price)


@dataclass(frozen=True)
class SheetParty:
    company: str
    person: str = ""
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""


@dataclass(frozen=True)
class OrderSheet:
    """The order as its documents print it: as it was when ordered (names included)."""

    order_id: int
    number: str  # e.g. "PO-2026-000123"
    ordered_at: datetime  # aware; printed in Asia/Tokyo
    orderer_name: str
    buyer: SheetParty
    supplier: SheetParty
    delivery: SheetParty  # the delivery address (お届け先)
    desired_date: date | None
    note: str
    lines: tuple[SheetLine, ...]
    language: str = "ja"

    @property
    def ordered_on(self) -> date:
        """The order's date in Tokyo."""
        return in_tokyo(self.ordered_at).date()

    @property
    def pages(self) -> int:
        """How many pages the order sheet takes: ``LINES_PER_PAGE`` lines each, at least one."""
        return _pages(len(self.lines))


@dataclass(frozen=True)
class BuyerFormSheet:
    """A buyer's order form for one supplier as printed: row n (1-based) orders ``rows[n - 1]``.

    ``rows`` are (product name, unit, unit price in yen tax excluded or None, note);
    ``fax_to`` is the number the buyer faxes the form to (the gateway's fax-order line).
    """

    form_id: int
    buyer_name: str
    buyer_fax: str
    supplier_name: str
    fax_to: str
    rows: tuple[tuple[str, str, int | None, str], ...]
    language: str = "ja"

    @property
    def pages(self) -> int:
        """How many pages the form takes: ``LINES_PER_PAGE`` rows each, at least one."""
        return _pages(len(self.rows))


def _pages(rows: int) -> int:
    return max(1, -(-rows // LINES_PER_PAGE))


def _yen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def in_tokyo(moment: datetime) -> datetime:
    """An aware moment in Asia/Tokyo, the time the documents print; a naive one is refused."""
    if moment.tzinfo is None:
        raise ValueError("ordered_at must be timezone-aware")
    return moment.astimezone(TOKYO)
