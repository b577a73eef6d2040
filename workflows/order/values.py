"""Reading the values of an order's requests and readings: quantities per line, and dates.

The same rules hold whether a value comes from the API, an operator or a supplier's
answer as a parser read it: at most three decimals, below ``MAX_QUANTITY``, ``YYYY-MM-DD``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from workflows.errors import InvalidRequest

MAX_QUANTITY = Decimal("1000000")


def quantities_from(value: object) -> dict[int, Decimal]:
    """``{"1": "3", ...}`` as stored in a parse result, or as an operator sends it."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidRequest("quantities must map line positions to quantities")
    out: dict[int, Decimal] = {}
    for key, quantity in value.items():
        try:
            position = int(str(key))
        except ValueError as exc:
            raise InvalidRequest(f"quantities: {key!r} is not a line position") from exc
        out[position] = parse_quantity(quantity, f"quantities.{key}", allow_zero=True)
    return out


def date_from(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidRequest("dates are given as YYYY-MM-DD")
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", value).strip())
    except ValueError as exc:
        raise InvalidRequest(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def parse_quantity(value: object, where: str, *, allow_zero: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidRequest(f"{where}: a quantity is a number")
    try:
        quantity = Decimal(unicodedata.normalize("NFKC", str(value)).replace(",", "").strip())
    except InvalidOperation as exc:
        raise InvalidRequest(f"{where}: {value!r} is not a number") from exc
    if not quantity.is_finite() or quantity < 0 or (quantity == 0 and not allow_zero) or quantity > MAX_QUANTITY:
        raise InvalidRequest(f"{where}: {value!r} is not a quantity that can be ordered")
    if quantity != quantity.quantize(Decimal("0.001")):
        raise InvalidRequest(f"{where}: at most three decimals")
    return quantity.normalize()
