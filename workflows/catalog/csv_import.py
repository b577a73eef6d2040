"""Importing a buyer's suppliers, delivery addresses, businesses or products from a CSV file, all rows or none.

(Users are imported by ``workflows.users.csv_users``: each of its rows sends an invitation.)

Every row is checked before anything is written: one wrong row refuses the whole file with
``CsvImportRefused``, listing each error. Rows of a name that exists update that record; the
columns the file lacks keep what the record holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.normalize import name_key
from workflows.catalog.csv_table import CsvImportRefused, ImportKind, RowError, Table, read_table
from workflows.catalog.fields import ADDRESS, BUSINESS, PRODUCT, PRODUCT_ROW, SUPPLIER, Form
from workflows.catalog.lookup import addresses_of, businesses_of, by_name_key, get_buyer, suppliers_of
from workflows.catalog.register import business_columns, set_product, supplier_columns
from workflows.errors import InvalidRequest
from workflows.models import Business, Buyer, DeliveryAddress, Product, Supplier

log = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 1_000  # beyond this a refusal says how many more there are

_Named = TypeVar("_Named", Supplier, DeliveryAddress, Business)


@dataclass(frozen=True)
class ImportResult:
    """What a good file did. A name repeated in a products file counts once (the last row wins)."""

    kind: str
    encoding: str
    rows: int  # data rows read, blank ones not counted
    created: int
    updated: int
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "encoding": self.encoding, "rows": self.rows, "created": self.created,
                "updated": self.updated, "notes": list(self.notes)}


def import_csv(session: Session, buyer_id: int, kind: str, data: bytes) -> ImportResult:
    """Register a buyer's suppliers, delivery addresses or products from a CSV file, all rows or none.

    Raises ``CsvImportRefused`` (an ``InvalidRequest``) listing every wrong row, having written nothing;
    ``NotFound`` for an unknown buyer. Rows of an existing name update it: the columns the file has
    are overwritten (an empty cell clears the field), the others are left as they were. A products file
    names each product's supplier, which must already exist; a name repeated in it: the last row wins.
    """
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        raise InvalidRequest(f"kind must be one of {', '.join(ImportKind)}") from None
    if import_kind == ImportKind.USERS:
        raise InvalidRequest("users are invited from a CSV file by workflows.users.import_users: each is mailed")
    buyer = get_buyer(session, buyer_id, for_update=True)
    errors: list[RowError] = []
    table = read_table(import_kind, data, errors)
    if import_kind == ImportKind.PRODUCTS:
        plan = _plan_products(session, buyer, table, errors)
    else:
        plan = _plan_named(_NAMED[import_kind], session, buyer, table, errors)
    if errors:
        errors.sort(key=lambda e: (e.row or 0))
        log.info("%s CSV for buyer %s refused: %s errors", import_kind, buyer_id, len(errors))
        raise CsvImportRefused(import_kind, errors[:MAX_LISTED_ERRORS], encoding=table.encoding, total=len(errors))
    created = updated = 0
    for write in plan.writes:
        if write():
            created += 1
        else:
            updated += 1
    session.flush()
    assert table.rows is not None
    result = ImportResult(import_kind.value, table.encoding.value, len(table.rows), created, updated,
                          tuple(plan.notes))
    log.info("%s CSV for buyer %s (%s): %s rows, %s created, %s updated", import_kind, buyer_id,
             table.encoding, result.rows, created, updated)
    return result


@dataclass
class _Plan:
    """What a checked file will do: one callable per record, True when it creates."""

    writes: list[Callable[[], bool]]
    notes: list[str]


def _row_problems(table: Table, row: int, problems: list[tuple[str, str]]) -> list[RowError]:
    return [RowError(row, table.label(field), message) for field, message in problems]


def _merged(table: Table, values: dict[str, str], existing: Mapping[str, object] | None) -> dict[str, object]:
    """The row's cells, and for columns the file does not have, what the existing record holds."""
    assert table.columns is not None
    kept = {field: value for field, value in (existing or {}).items() if field not in table.columns}
    return {**kept, **values}


@dataclass(frozen=True)
class _NamedKind(Generic[_Named]):
    """A kind of record a buyer has once per name, and how rows of a file become such records."""

    what: str  # as messages name one
    form: Form
    model: type[_Named]
    listed: Callable[[Session, int], list[_Named]]
    fields_of: Callable[[_Named], dict[str, object]]  # a stored record as the form's fields
    columns_of: Callable[[dict[str, Any], Buyer], dict[str, Any]]  # clean fields as the model's columns


_NAMED: dict[ImportKind, _NamedKind[Any]] = {
    ImportKind.SUPPLIERS: _NamedKind[Supplier](
        "supplier", SUPPLIER, Supplier, suppliers_of,
        lambda supplier: {"name": supplier.name, "contact_name": supplier.contact_name, "email": supplier.email,
                          "fax": supplier.fax_number, "channel": supplier.channel, "language": supplier.language},
        supplier_columns),
    ImportKind.DELIVERY_ADDRESSES: _NamedKind[DeliveryAddress](
        "delivery address", ADDRESS, DeliveryAddress, addresses_of,
        lambda address: {field: getattr(address, field) for field in ADDRESS.fields},
        lambda clean, _buyer: clean),
    ImportKind.BUSINESSES: _NamedKind[Business](
        "business", BUSINESS, Business, businesses_of,
        lambda business: {field: getattr(business, field) for field in BUSINESS.fields},
        business_columns),
}


def _plan_named(kind: _NamedKind[_Named], session: Session, buyer: Buyer, table: Table, errors: list[RowError]
                ) -> _Plan:
    existing = by_name_key(kind.listed(session, buyer.id))
    seen: dict[str, int] = {}
    plan = _Plan([], [])
    assert table.rows is not None
    for row, values in table.rows:
        key = name_key(values.get("name", ""))
        record = existing.get(key)
        current = None if record is None else kind.fields_of(record)
        clean, problems = kind.form.clean(_merged(table, values, current))
        errors.extend(_row_problems(table, row, problems))
        if key and key in seen:
            errors.append(RowError(row, table.label("name"), f"{values['name'].strip()!r} is also on row "
                                                             f"{seen[key]}: each {kind.what} once per file"))
        seen.setdefault(key, row)
        if not problems:
            plan.writes.append(_named_write(kind, session, buyer, record, clean))
    return plan


def _named_write(kind: _NamedKind[_Named], session: Session, buyer: Buyer, record: _Named | None,
                 clean: dict[str, Any]) -> Callable[[], bool]:
    def write() -> bool:
        columns = kind.columns_of(clean, buyer)
        if record is None:
            session.add(kind.model(buyer_id=buyer.id, **columns))
            return True
        for name, value in columns.items():
            setattr(record, name, value)
        return False
    return write


def _plan_products(session: Session, buyer: Buyer, table: Table, errors: list[RowError]) -> _Plan:
    suppliers = by_name_key(suppliers_of(session, buyer.id))
    supplier_ids = [s.id for s in suppliers.values()]
    existing = {(p.supplier_id, p.name_key): p
                for p in session.scalars(select(Product).where(Product.supplier_id.in_(supplier_ids)))}
    chosen: dict[tuple[int, str], tuple[int, dict[str, Any]]] = {}  # the last row of each product wins
    plan = _Plan([], [])
    assert table.rows is not None
    for row, values in table.rows:
        supplier = suppliers.get(name_key(values.get("supplier", "")))
        product = existing.get((supplier.id, name_key(values.get("name", "")))) if supplier else None
        current = None if product is None else {field: getattr(product, field) for field in PRODUCT.fields}
        clean, problems = PRODUCT_ROW.clean(_merged(table, values, current))
        errors.extend(_row_problems(table, row, problems))
        if supplier is None and not any(field == "supplier" for field, _ in problems):
            errors.append(RowError(row, table.label("supplier"),
                                   f"this buyer has no supplier named {clean['supplier']!r}: "
                                   f"register it (or import the suppliers CSV) first"))
            continue
        if problems or supplier is None:
            continue
        key = (supplier.id, name_key(clean["name"]))
        if key in chosen:
            plan.notes.append(f"row {row} overwrites row {chosen[key][0]}: the same product "
                              f"{clean['name']!r} of {supplier.name!r}")
        chosen[key] = (row, clean)
    for product_key, (_row, clean) in chosen.items():
        plan.writes.append(_product_write(session, product_key[0], existing.get(product_key), clean))
    return plan


def _product_write(session: Session, supplier_id: int, product: Product | None, clean: dict[str, Any]
                   ) -> Callable[[], bool]:
    def write() -> bool:
        target = product if product is not None else Product(supplier_id=supplier_id)
        set_product(target, clean)
        if product is None:
            session.add(target)
        return product is None
    return write
