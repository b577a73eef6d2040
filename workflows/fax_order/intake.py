"""Taking a fax delivery in, in the message's transaction: the fax order made, read, decided, and the message's fate.

When every field is sure the order is placed (``workflows.order.place``: the sheet
goes on to the supplier) and the buyer is sent a confirmation; anything unsure sends
the fax order to ``needs_review`` with the reasons. The same pages faxed again
change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.fax_order.acceptance import corrections_from_reading, place_accepted
from workflows.fax_order.duplicates import content_of, duplicate_of, fingerprint_of
from workflows.fax_order.pages import FaxPages
from workflows.fax_order.reading import Decision, buyer_of, reading_of
from workflows.fax_order.states import MACHINE, OBJECT_TYPE, fire
from workflows.models import Document, FaxOrder, InboundMessage, InboundStatus
from workflows.timeline import record


@dataclass(frozen=True)
class Taken:
    status: InboundStatus
    reason: str
    fax_order_id: int | None
    parse: dict[str, Any]


def take(session: Session, settings: Settings, row: InboundMessage, fax: FaxPages) -> Taken:
    """Make the fax order of one delivery, decide it, and say what happened to the message."""
    buyer, buyer_via, buyer_doubt = buyer_of(session, fax)
    content = content_of(fax)
    fingerprint = fingerprint_of(buyer, fax, content)
    duplicate = duplicate_of(session, fax, buyer, fingerprint, content)
    if duplicate is not None:
        record(session, OBJECT_TYPE, duplicate.id, "duplicate",
               f"the same fax again (message {row.id}): not a second order", inbound_id=row.id)
        return Taken(InboundStatus.IGNORED, f"duplicate of fax order {duplicate.id} (the same pages sent again)",
                     duplicate.id, {"duplicate_of": duplicate.id})
    fax_order = FaxOrder(inbound_id=row.id, state=MACHINE.initial, received_at=row.received_at,
                         sender_fax=fax.sender.number, buyer_id=buyer.id if buyer else None,
                         page_count=len(fax.pages), fingerprint=fingerprint,
                         layout="form" if fax.form is not None else ("free" if fax.free is not None else ""))
    session.add(fax_order)
    session.flush()
    record(session, OBJECT_TYPE, fax_order.id, "created",
           f"fax order of {len(fax.pages)} page(s) from {fax.sender.number or 'an unknown number'}"
           f" ({fax.sender.found_in})", inbound_id=row.id)
    documents = [Document(object_type=OBJECT_TYPE, object_id=fax_order.id, kind="fax_page",
                          filename=f"fax-order-{fax_order.id}-page-{page.number}.png", content_type="image/png",
                          data=page.png) for page in fax.pages]
    session.add_all(documents)
    session.flush()
    decision = Decision()
    if buyer_doubt:
        decision.unsure(buyer_doubt)
    reading = reading_of(session, settings, fax, fax_order, buyer, buyer_via, decision)
    reading["pages"] = [{"number": p.number, "width_mm": round(p.width_mm, 1), "height_mm": round(p.height_mm, 1),
                         "source": p.source, "document_id": d.id, "ms": round(p.ms)}
                        for p, d in zip(fax.pages, documents, strict=True)]
    reading["page_hashes"] = list(fax.page_hashes)
    reading["content"] = {"lines": content[0], "day": content[1]} if content else None
    fax_order.reading = reading
    fire(session, settings, fax_order, "parse", f"{len(reading.get('lines', []))} line(s) read")
    if decision.reasons:
        return _to_review(session, settings, fax_order, "; ".join(decision.reasons)[:2000])
    try:
        place_accepted(session, settings, fax_order, corrections_from_reading(reading), by="the gateway")
    except InvalidRequest as invalid:  # e.g. a desired date already past
        return _to_review(session, settings, fax_order, f"cannot be placed: {invalid}")
    return Taken(InboundStatus.PROCESSED, f"fax order {fax_order.id} accepted as order {fax_order.order_id}",
                 fax_order.id, {"fax_order": fax_order.id, "order": fax_order.order_id})


def _to_review(session: Session, settings: Settings, fax_order: FaxOrder, reason: str) -> Taken:
    fax_order.reason = reason
    fire(session, settings, fax_order, "review", reason)
    return Taken(InboundStatus.REVIEW, f"fax order {fax_order.id} needs review: {reason}",
                 fax_order.id, {"fax_order": fax_order.id})
