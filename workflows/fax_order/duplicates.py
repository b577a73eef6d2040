"""The same pages faxed again: recognised by their content or by their look, within ``DUPLICATE_DAYS``.

A buyer whose fax machine says "sent?" sends again; the second copy must not be a
second order. The content (``content_of``: the lines read, and the day) gives a
fingerprint; a resend read a little differently by OCR is still known by the look of
its pages (``workflows.fax_order.pages.page_hash``), if what was read does not say
otherwise.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from parsers.products import item_key
from workflows import clock
from workflows.fax_order.pages import FaxPages
from workflows.models import Buyer, FaxOrder

DUPLICATE_DAYS = 7  # a resend comes within hours; the same order a week later is a new one
SAME_PAGE_BITS = 30  # of 256: resends of one sheet differ by ≤ 12 here; different sheets by ≥ 60

Content = tuple[list[str], str]


def hash_distance(a: str, b: str) -> int:
    """How many of two page hashes' bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def content_of(fax: FaxPages) -> Content | None:
    """The order as read, to tell one sheet sent twice: its lines (item, quantity, unit) sorted, and its day."""
    if fax.form is not None:
        lines = sorted(f"{row}:{value.value}" for row, value in fax.form.quantities.items())
        day = fax.form.delivery_date.value if fax.form.delivery_date else ""
    elif fax.free is not None and fax.free.lines:
        lines = sorted(f"{item_key(line.item.text)}:{line.quantity.value}:{line.unit.value if line.unit else ''}"
                       for line in fax.free.lines)
        day = fax.free.delivery_date.value if fax.free.delivery_date else ""
    else:
        return None
    return lines, day or ""


def fingerprint_of(buyer: Buyer | None, fax: FaxPages, content: Content | None) -> str | None:
    """The same lines for the same day from the same buyer."""
    if content is None:
        return None
    lines, day = content
    who = str(buyer.id) if buyer else (fax.sender.number or "")
    return hashlib.sha256(f"{who}|{day}|{'|'.join(lines)}".encode()).hexdigest()


def duplicate_of(session: Session, fax: FaxPages, buyer: Buyer | None, fingerprint: str | None,
                 content: Content | None) -> FaxOrder | None:
    """An earlier fax order of the same content, or of the same look whose content, read, does not differ."""
    if not fax.pages:
        return None
    since = clock.now() - timedelta(days=DUPLICATE_DAYS)
    who = []
    if buyer is not None:
        who.append(FaxOrder.buyer_id == buyer.id)
    if fax.sender.number:
        who.append(FaxOrder.sender_fax == fax.sender.number)
    query = select(FaxOrder).where(FaxOrder.created_at >= since, FaxOrder.state != "discarded")
    if who:
        query = query.where(or_(*who))
    for earlier in session.scalars(query.order_by(FaxOrder.id)):
        if fingerprint is not None and earlier.fingerprint == fingerprint:
            return earlier
        hashes = earlier.reading.get("page_hashes") or []
        if len(hashes) == len(fax.page_hashes) and all(
                hash_distance(a, b) <= SAME_PAGE_BITS for a, b in zip(hashes, fax.page_hashes, strict=True)) \
                and _may_be_one_sheet(earlier.reading.get("content"), content):
            return earlier
    return None


def _may_be_one_sheet(earlier: Mapping[str, Any] | None, content: Content | None) -> bool:
    """Whether two readings of pages that look alike may be one sheet read twice: one of them unread, or
    the same day and at least half the lines read alike (OCR reads a resent sheet a little differently).
    The look alone cannot tell: the same buyer's next order on its own template looks nearly the same."""
    if not earlier or content is None:
        return True
    lines, day = content
    if earlier["day"] and day and earlier["day"] != day:
        return False
    alike = sum((Counter(earlier["lines"]) & Counter(lines)).values())
    return alike * 2 >= max(len(earlier["lines"]), len(lines))
