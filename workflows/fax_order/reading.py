"""What a fax order's pages say, looked up: who sent it, which supplier it is for, which product each line names.

The number the fax came from is the proof of the buyer; the supplier is the form's,
else the one the sheet names, else the buyer's only one, else the one whose products
the items name. The reading is stored on the fax order as the operator sees it;
every doubt on the way goes into the ``Decision``, and any doubt sends the fax order
to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.company_names import company_key
from parsers.products import match_product
from workflows.catalog.lookup import products_of, suppliers_of
from workflows.config import Settings
from workflows.fax_order.forms import form_lines
from workflows.fax_order.matching import entry_of, free_form_lines, line_doubts, written_name
from workflows.fax_order.pages import FaxPages
from workflows.models import Buyer, BuyerForm, FaxOrder, ProductAlias, Supplier


@dataclass
class Decision:
    """Why the fax order cannot be placed without a person, each reason once; none: it can."""

    reasons: list[str] = field(default_factory=list)

    def unsure(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def buyer_of(session: Session, fax: FaxPages) -> tuple[Buyer | None, str, str | None]:
    """The buyer, how it was found, and why that is not enough to act on (None when it is).

    The number the fax came from is the proof; the form's code or the number written
    on the sheet will do when the delivery gives no number, but a sheet naming a buyer
    whose number it was not sent from is a person's call, and so is a name alone.
    """
    sent_from = fax.sender.number
    if sent_from:
        found = session.scalars(select(Buyer).where(Buyer.fax == sent_from).order_by(Buyer.id)).first()
        if found is not None:
            return found, f"fax number {sent_from} ({fax.sender.found_in})", None
    candidates: list[tuple[Buyer | None, str]] = []
    if fax.form is not None:
        form = session.get(BuyerForm, fax.form.form_id)
        if form is not None:
            candidates.append((session.get(Buyer, form.buyer_id), f"order form {form.id}"))
    free = fax.free
    if free is not None and free.buyer_fax is not None and free.buyer_fax.value:
        written = session.scalars(select(Buyer).where(Buyer.fax == free.buyer_fax.value).order_by(Buyer.id)).first()
        candidates.append((written, f"fax number written on the sheet ({free.buyer_fax.value})"))
    for buyer, via in candidates:
        if buyer is not None:
            why = f"{via} is {buyer.name}'s, but the fax came from {sent_from}" if sent_from else None
            return buyer, via, why
    if free is not None and free.buyer_name is not None and free.buyer_name.value:
        key = company_key(free.buyer_name.value)
        matches = [b for b in session.scalars(select(Buyer)) if key and company_key(b.name) == key]
        if len(matches) == 1:
            return matches[0], f"name written on the sheet ({free.buyer_name.value})", \
                f"buyer {matches[0].name} recognised by the name on the sheet only"
    return None, "not found", None


def _aliases(session: Session, buyer: Buyer | None) -> dict[str, int]:
    if buyer is None:
        return {}
    return {alias.alias_key: alias.product_id
            for alias in session.scalars(select(ProductAlias).where(ProductAlias.buyer_id == buyer.id))}


def _supplier(session: Session, fax: FaxPages, buyer: Buyer | None,
              decision: Decision) -> tuple[Supplier | None, str]:
    if fax.form is not None:
        form = session.get(BuyerForm, fax.form.form_id)
        if form is None:
            decision.unsure(f"order form {fax.form.form_id} does not exist")
            return None, "unknown form"
        if buyer is not None and form.buyer_id != buyer.id:
            decision.unsure(f"the order form is {form.buyer_id}'s, but the fax came from buyer {buyer.id}")
        return session.get(Supplier, form.supplier_id), f"order form {form.id}"
    if buyer is None:
        return None, "no buyer"
    suppliers = suppliers_of(session, buyer.id)
    if not suppliers:
        decision.unsure(f"{buyer.name} has no suppliers")
        return None, "none"
    free = fax.free
    if free is not None and free.supplier_name is not None and free.supplier_name.value:
        key = company_key(free.supplier_name.value)
        named = [s for s in suppliers if key and (company_key(s.name) == key or key in company_key(s.name))]
        if len(named) == 1:
            return named[0], f"addressee on the sheet ({free.supplier_name.value})"
    if len(suppliers) == 1:
        return suppliers[0], "the buyer's only supplier"
    if free is None or not free.lines:
        decision.unsure(f"{buyer.name} has {len(suppliers)} suppliers and the sheet names none")
        return None, "ambiguous"
    aliases = _aliases(session, buyer)
    scores = []
    for supplier in suppliers:
        catalog = [entry_of(p) for p in products_of(session, supplier.id)]
        scores.append((sum(match_product(written_name(line), catalog, aliases).confidence for line in free.lines),
                       supplier))
    scores.sort(key=lambda pair: pair[0], reverse=True)
    if len(scores) > 1 and scores[0][0] - scores[1][0] < 0.5:
        decision.unsure(f"the items fit {scores[0][1].name} and {scores[1][1].name} alike")
    return scores[0][1], "the supplier whose products the items name"


def reading_of(session: Session, settings: Settings, fax: FaxPages, fax_order: FaxOrder, buyer: Buyer | None,
               buyer_via: str, decision: Decision) -> dict[str, Any]:
    """The fields, matched and checked, as stored on the fax order; every doubt goes into ``decision``."""
    bar = settings.min_confidence
    reading: dict[str, Any] = {"sender": {"number": fax.sender.number, "service": fax.sender.service,
                                          "found_in": fax.sender.found_in},
                               "buyer": {"id": buyer.id if buyer else None, "name": buyer.name if buyer else None,
                                         "via": buyer_via},
                               "problems": list(fax.problems)}
    for problem in fax.problems:
        decision.unsure(problem)
    if not fax.pages:
        return reading
    if buyer is None:
        decision.unsure(f"unknown buyer: the fax came from {fax.sender.number or 'a number the delivery does not give'}"
                        " and the sheet names no known buyer")
    supplier, supplier_via = _supplier(session, fax, buyer, decision)
    fax_order.supplier_id = supplier.id if supplier else None
    reading["supplier"] = {"id": supplier.id if supplier else None, "name": supplier.name if supplier else None,
                           "via": supplier_via}
    catalog = products_of(session, supplier.id) if supplier else []
    if fax.form is not None:
        fax_order.form_id = fax.form.form_id
        lines, fields, doubts = form_lines(session, fax.form, catalog)
        for doubt in doubts:
            decision.unsure(doubt)
    elif fax.free is not None:
        lines, fields = free_form_lines(fax.free, catalog, _aliases(session, buyer))
        for reason in fax.free.reasons:
            decision.unsure(reason)
    else:
        lines, fields = [], {}
        decision.unsure("nothing readable on the pages")
    reading["lines"] = lines
    reading["fields"] = fields
    if not lines and fax.pages:
        decision.unsure("no order lines read")
    date_field = fields.get("delivery_date")
    if date_field is None:
        decision.unsure("no delivery date on the sheet")
    elif date_field["value"] is None or date_field["confidence"] < bar:
        decision.unsure(f"delivery date unsure: {date_field['reason'] or date_field['text']!r}")
    for line in lines:
        for doubt in line_doubts(line, bar):
            decision.unsure(f"line {line['position']}: {doubt}")
    return reading
