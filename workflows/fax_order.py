"""Fax orders from legacy buyers: ``received → parsed → needs_review | accepted → confirmation_sent``.

A buyer off the platform faxes an order, on the gateway's own order form
(``workflows.order_documents.render_buyer_form``) or on its own sheet. Reading
happens in two halves:

- ``read_delivery`` (slow, no database): the pages of every attachment, the form
  fields by position when a page carries a form code, else every page's words
  (text layer or OCR) and the free-form reading of them;
- ``take`` (in the message's transaction): who sent it (the delivery's fax number,
  else the sheet's), which supplier it is for, which product each line names, in
  what unit, for which day; then the decision.

Every field keeps its confidence and its place on the page. When every field is
sure the order is placed (``workflows.order.place``: the sheet goes on to the
supplier) and the buyer is sent a confirmation listing what was understood, by fax
back to the number it faxed from, else by mail. Anything unsure sends the fax order
to ``needs_review`` with the reasons; an operator corrects and accepts it (or
discards it), and the item names corrected are remembered as that buyer's
aliases, so its next fax reads on its own. The same pages faxed again within
``DUPLICATE_DAYS`` are recognised, by their content or by their look, and change
nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from parsers.fax_sender import FaxSender, fax_file_type, fax_sender, load_services
from parsers.faxorder import Field, FreeFormReading, ItemLine, read_free_form
from parsers.imaging import UnreadablePage, pages_from_attachment
from parsers.mime import ParsedMail
from parsers.normalize import company_key
from parsers.products import SURE, CatalogEntry, ProductMatch, alias_key, item_key, match_product
from parsers.units import convert, unit_of
from workflows import clock
from workflows import order as orders
from workflows.config import Settings
from workflows.db import Database
from workflows.errors import InvalidRequest, NotFound
from workflows.faxes import queue_fax
from workflows.letters import pdf_from_html
from workflows.machine import Machine, Refusal, Transition
from workflows.mail import queue_mail, render_mail
from workflows.models import (
    Buyer,
    BuyerForm,
    DeliveryAddress,
    Document,
    FaxJob,
    FaxOrder,
    FaxStatus,
    InboundMessage,
    InboundStatus,
    Order,
    OutboundMessage,
    OutboundStatus,
    Product,
    ProductAlias,
    Supplier,
)
from workflows.order import LineSpec
from workflows.order_documents import BuyerFormSheet, buyer_fax_form, buyer_form_reference, render_buyer_form
from workflows.timeline import record

log = logging.getLogger(__name__)

OBJECT_TYPE = "fax_order"
DUPLICATE_DAYS = 7  # a resend comes within hours; the same order a week later is a new one
PAGE_TYPES = ("application/pdf", "image/")
MAX_PAGES_KEPT = 50


# --- the state machine ------------------------------------------------------------------------


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


# --- reading the delivery (no database) -------------------------------------------------------


@dataclass(frozen=True)
class PageImage:
    number: int
    width_mm: float
    height_mm: float
    png: bytes
    source: str  # "text", "ocr" or "form"
    ms: float = 0.0


@dataclass(frozen=True)
class FaxPages:
    """What one fax delivery says, before anything is looked up."""

    sender: FaxSender
    received_on: date
    pages: tuple[PageImage, ...] = ()
    page_hashes: tuple[str, ...] = ()
    form: Any | None = None  # a BuyerFormReading (the gateway's own form) when a page carried its code
    free: FreeFormReading | None = None
    problems: tuple[str, ...] = ()  # attachments that could not be read, and why


FormFor = Callable[[int], Any]


def read_delivery(mail: ParsedMail, settings: Settings, received_at: datetime,
                  form_for: FormFor | None = None) -> FaxPages:
    """Every page of every fax attachment, read; bad attachments become problems, never exceptions."""
    from parsers import pagetext  # OCR and OpenCV: only processes that read faxes load them

    sender = fax_sender(mail, load_services(settings.fax_services_file))
    received_on = clock.day_of(received_at)
    problems: list[str] = []
    attachments = [a for a in mail.attachments if a.content_type.startswith(PAGE_TYPES)
                   or (a.content_type == "application/octet-stream" and fax_file_type(a.data) is not None)]
    if not attachments:
        return FaxPages(sender, received_on, problems=("the delivery has no PDF or TIFF attachment",))
    images: list[Image.Image] = []
    readable = []
    for attachment in attachments:
        name = attachment.filename or attachment.content_type
        try:
            found = pages_from_attachment(attachment.data, attachment.content_type, attachment.filename)
        except UnreadablePage as exc:
            problems.append(f"{name}: unparseable: {exc.reason}")
            continue
        if len(images) + len(found) > MAX_PAGES_KEPT:
            problems.append(f"{name}: unparseable: more than {MAX_PAGES_KEPT} pages in one fax")
            continue
        images += found
        readable.append(attachment)
    if not images:
        return FaxPages(sender, received_on, problems=tuple(problems))
    form = _read_form(images, settings, form_for, received_on) if form_for is not None else None
    if form is not None:
        pages = tuple(PageImage(n, *_size_mm(image), _png(image), "form") for n, image in enumerate(images, 1))
        return FaxPages(sender, received_on, pages, tuple(page_hash(image) for image in images), form,
                        problems=tuple(problems))
    texts: list[Any] = []
    for attachment in readable:
        try:
            texts += pagetext.read_document(attachment.data, attachment.content_type, attachment.filename)
        except UnreadablePage as exc:
            problems.append(f"{attachment.filename or attachment.content_type}: unparseable: {exc.reason}")
    for number, text in enumerate(texts, 1):
        text.number = number  # numbered across attachments, as the fax's pages
    free = read_free_form(texts, received_on) if texts else None
    pages = tuple(PageImage(t.number, t.width_mm, t.height_mm, _png(t.image), t.source, t.ms) for t in texts)
    return FaxPages(sender, received_on, pages, tuple(page_hash(t.image) for t in texts), None, free,
                    tuple(problems))


def sheet_of(session: Session, settings: Settings, form: BuyerForm) -> BuyerFormSheet:
    """The form as it was printed: its rows are the products it was issued with, in that order."""
    buyer, supplier = session.get(Buyer, form.buyer_id), session.get(Supplier, form.supplier_id)
    assert buyer is not None and supplier is not None
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(form.product_ids)))}
    rows = tuple((p.name, p.unit, p.unit_price, p.note[:40]) if (p := products.get(pid)) else ("—", "", None, "")
                 for pid in form.product_ids)
    return BuyerFormSheet(form_id=form.id, buyer_name=buyer.name, buyer_fax=buyer.fax, supplier_name=supplier.name,
                          fax_to=settings.fax_number or "", rows=rows, language=form.language)


def form_spec(db: Database, settings: Settings, form_id: int) -> BuyerFormSheet | None:
    """What the form reader needs of the form a page's code names (its rows), or None."""
    with db.sessions() as session:
        form = session.get(BuyerForm, form_id)
        return sheet_of(session, settings, form) if form is not None else None


def issue_form(session: Session, settings: Settings, supplier_id: int,
               body: Mapping[str, Any]) -> tuple[BuyerForm, bytes]:
    """A new order form for the supplier's buyer, listing the supplier's products as they are now."""
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    products = _catalog(session, supplier.id)
    if not products:
        raise InvalidRequest(f"{supplier.name} has no products to put on a form")
    language = str(body.get("language") or "ja")
    if language not in ("ja", "en"):
        raise InvalidRequest("language must be ja or en")
    form = BuyerForm(buyer_id=supplier.buyer_id, supplier_id=supplier.id, product_ids=[p.id for p in products],
                     language=language)
    session.add(form)
    session.flush()
    pdf = render_buyer_form(sheet_of(session, settings, form), reference=buyer_form_reference(form.id,
                                                                                               settings.secret_key))
    log.info("order form %s issued: supplier %s, %s products", form.id, supplier.id, len(products))
    return form, pdf


def _read_form(images: Sequence[Image.Image], settings: Settings, form_for: FormFor,
               received_on: date) -> Any | None:
    from parsers.buyerform import read_buyer_form

    return read_buyer_form(images, buyer_fax_form(settings.secret_key), form_for, received_on=received_on)


def _size_mm(image: Image.Image) -> tuple[float, float]:
    dpi = float(image.info.get("dpi", (200, 200))[0]) or 200.0
    return image.width * 25.4 / dpi, image.height * 25.4 / dpi


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, "PNG", optimize=True)
    return out.getvalue()


def page_hash(image: Image.Image) -> str:
    """A 256-bit picture of the page's ink: the same sheet faxed twice gives nearly the same bits.

    The ink's bounding box is cut out first, so the sheet lying a few millimetres
    elsewhere on the glass does not matter; 16×16 cells of it are dark or not.
    """
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    ink = gray < 128
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return "0" * 64
    crop = Image.fromarray(gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]).resize((16, 16), Image.Resampling.BOX)
    cells = np.asarray(crop, dtype=np.float64).ravel()
    bits = cells < np.median(cells)
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"


def _hash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


SAME_PAGE_BITS = 30  # of 256: resends of one sheet differ by ≤ 12 here; different sheets by ≥ 60


# --- taking it in (in the message's transaction) ----------------------------------------------


@dataclass
class _Decision:
    reasons: list[str] = field(default_factory=list)

    def unsure(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass(frozen=True)
class Taken:
    status: InboundStatus
    reason: str
    fax_order_id: int | None
    parse: dict[str, Any]


def take(session: Session, settings: Settings, row: InboundMessage, fax: FaxPages) -> Taken:
    """Make the fax order of one delivery, decide it, and say what happened to the message."""
    buyer, buyer_via, buyer_doubt = _buyer(session, fax)
    content = _content(fax)
    fingerprint = _fingerprint(buyer, fax, content)
    duplicate = _duplicate_of(session, fax, buyer, fingerprint, content)
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
    decision = _Decision()
    if buyer_doubt:
        decision.unsure(buyer_doubt)
    reading = _reading(session, settings, fax, fax_order, buyer, buyer_via, decision)
    reading["pages"] = [{"number": p.number, "width_mm": round(p.width_mm, 1), "height_mm": round(p.height_mm, 1),
                         "source": p.source, "document_id": d.id, "ms": round(p.ms)}
                        for p, d in zip(fax.pages, documents, strict=True)]
    reading["page_hashes"] = list(fax.page_hashes)
    reading["content"] = {"lines": content[0], "day": content[1]} if content else None
    fax_order.reading = reading
    fire(session, settings, fax_order, "parse", f"{len(reading.get('lines', []))} line(s) read")
    if decision.reasons:
        fax_order.reason = "; ".join(decision.reasons)[:2000]
        fire(session, settings, fax_order, "review", fax_order.reason)
        return Taken(InboundStatus.REVIEW, f"fax order {fax_order.id} needs review: {fax_order.reason}",
                     fax_order.id, {"fax_order": fax_order.id})
    try:
        _accept(session, settings, fax_order, _corrections_from_reading(reading), by="the gateway")
    except InvalidRequest as invalid:  # e.g. a desired date already past
        fax_order.reason = f"cannot be placed: {invalid}"
        fire(session, settings, fax_order, "review", fax_order.reason)
        return Taken(InboundStatus.REVIEW, f"fax order {fax_order.id} needs review: {fax_order.reason}",
                     fax_order.id, {"fax_order": fax_order.id})
    return Taken(InboundStatus.PROCESSED, f"fax order {fax_order.id} accepted as order {fax_order.order_id}",
                 fax_order.id, {"fax_order": fax_order.id, "order": fax_order.order_id})


def _buyer(session: Session, fax: FaxPages) -> tuple[Buyer | None, str, str | None]:
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


def _content(fax: FaxPages) -> tuple[list[str], str] | None:
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


def _fingerprint(buyer: Buyer | None, fax: FaxPages, content: tuple[list[str], str] | None) -> str | None:
    """The same lines for the same day from the same buyer."""
    if content is None:
        return None
    lines, day = content
    who = str(buyer.id) if buyer else (fax.sender.number or "")
    return hashlib.sha256(f"{who}|{day}|{'|'.join(lines)}".encode()).hexdigest()


def _duplicate_of(session: Session, fax: FaxPages, buyer: Buyer | None, fingerprint: str | None,
                  content: tuple[list[str], str] | None) -> FaxOrder | None:
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
                _hash_distance(a, b) <= SAME_PAGE_BITS for a, b in zip(hashes, fax.page_hashes, strict=True)) \
                and _may_be_one_sheet(earlier.reading.get("content"), content):
            return earlier
    return None


def _may_be_one_sheet(earlier: Mapping[str, Any] | None, content: tuple[list[str], str] | None) -> bool:
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


def _catalog(session: Session, supplier_id: int) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.supplier_id == supplier_id).order_by(Product.id)))


def _aliases(session: Session, buyer: Buyer | None) -> dict[str, int]:
    if buyer is None:
        return {}
    return {alias.alias_key: alias.product_id
            for alias in session.scalars(select(ProductAlias).where(ProductAlias.buyer_id == buyer.id))}


def _supplier(session: Session, fax: FaxPages, buyer: Buyer | None,
              decision: _Decision) -> tuple[Supplier | None, str]:
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
    suppliers = list(session.scalars(select(Supplier).where(Supplier.buyer_id == buyer.id).order_by(Supplier.id)))
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
        catalog = [_entry(p) for p in _catalog(session, supplier.id)]
        scores.append((sum(match_product(_written(line), catalog, aliases).confidence for line in free.lines),
                       supplier))
    scores.sort(key=lambda pair: pair[0], reverse=True)
    if len(scores) > 1 and scores[0][0] - scores[1][0] < 0.5:
        decision.unsure(f"the items fit {scores[0][1].name} and {scores[1][1].name} alike")
    return scores[0][1], "the supplier whose products the items name"


def _entry(product: Product) -> CatalogEntry:
    return CatalogEntry(product.id, product.name, product.unit, product.unit_price)


def _reading(session: Session, settings: Settings, fax: FaxPages, fax_order: FaxOrder, buyer: Buyer | None,
             buyer_via: str, decision: _Decision) -> dict[str, Any]:
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
    catalog = _catalog(session, supplier.id) if supplier else []
    if fax.form is not None:
        fax_order.form_id = fax.form.form_id
        lines, fields = _form_lines(session, fax.form, catalog, decision)
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


def line_doubts(line: Mapping[str, Any], bar: float) -> list[str]:
    """Why a line as stored (``free_form_lines``) cannot be ordered without a person; none when it can."""
    doubts = [f"{name} unsure ({part['reason'] or part['text']!r})" for name in ("item", "quantity", "unit")
              if (part := line.get(name)) is not None and (part["value"] is None or part["confidence"] < bar)]
    product = line["product"]
    if product["product_id"] is None or product["reason"] or product["confidence"] < bar:
        doubts.append(product["reason"] or "product unsure")
    if line.get("unit_problem"):
        doubts.append(line["unit_problem"])
    return doubts


def free_form_lines(free: FreeFormReading, catalog: Sequence[Product],
                    aliases: Mapping[str, int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A free-form sheet's lines matched to the supplier's master, and its other fields, as stored."""
    entries = [_entry(p) for p in catalog]
    by_id = {p.id: p for p in catalog}
    lines = []
    for position, line in enumerate(free.lines, 1):
        match, line = match_line(line, entries, aliases) if entries else \
            (ProductMatch(None, "", 0.0, "none", reason="no supplier to match the item against"), line)
        lines.append(_line_json(position, line, match, by_id.get(match.product_id or -1)))
    fields = {name: value.as_json() for name, value in (
        ("delivery_date", free.delivery_date), ("buyer_name", free.buyer_name), ("buyer_fax", free.buyer_fax),
        ("supplier_name", free.supplier_name), ("note", free.note)) if value is not None}
    return lines, fields


def _sure(match: ProductMatch) -> bool:
    return match.product_id is not None and match.confidence >= SURE and not match.reason


def match_line(line: ItemLine, entries: Sequence[CatalogEntry],
               aliases: Mapping[str, int]) -> tuple[ProductMatch, ItemLine]:
    """The product the line names, and the line with the reading of its name that says so.

    When the first reading names no product surely, OCR's other readings of the same ink are tried: one
    product named surely by some of them, and no other by any, is taken (豆殴 read again 豆腐)."""
    first = match_product(_written(line), entries, aliases)
    if _sure(first) or not line.item.alternatives:
        return first, line
    sure = [(text, match) for text in line.item.alternatives if _sure(match := match_product(text, entries, aliases))]
    if len({match.product_id for _, match in sure}) != 1:
        return first, line
    text, match = sure[0]
    return match, replace(line, item=replace(line.item, value=text))


def _written(line: ItemLine) -> str:
    """The item's name as the sheet gives it, without a row number before it."""
    return line.item.value or line.item.text


def _line_json(position: int, line: ItemLine, match: ProductMatch, product: Product | None) -> dict[str, Any]:
    quantity = line.quantity
    unit_problem = None
    product_unit = product.unit if product else ""
    if product is not None and quantity.value is not None:
        quantity, unit_problem = _in_product_unit(quantity, line.unit, product)
    item, unit = line.item, line.unit
    if product is not None and _sure(match):
        item = item.checked()  # a name the master knows is read right, however unsure the OCR was of it
        if unit is not None and _same_unit(unit.value, product.unit):
            unit = unit.checked()  # so is the unit the product is sold by: OCR does not make 袋 of ケース
    return {"position": position, "item": item.as_json(), "quantity": quantity.as_json(),
            "unit": unit.as_json() if unit else None, "product_unit": product_unit,
            "price": line.price.as_json() if line.price else None,
            "amount": line.amount.as_json() if line.amount else None,
            "product": match.as_json(), "unit_problem": unit_problem}


def _same_unit(written: str | None, sold_by: str) -> bool:
    a, b = unit_of(written or ""), unit_of(sold_by)
    return a is not None and b is not None and a.code == b.code


def _in_product_unit(quantity: Field, written: Field | None, product: Product) -> tuple[Field, str | None]:
    """The quantity in the unit the product is sold by, or why it cannot be."""
    if written is None or written.value is None or not product.unit:
        return quantity, None
    sold_by, wrote = unit_of(product.unit), unit_of(written.value)
    if sold_by is None or wrote is None:
        same = item_key(written.value) == item_key(product.unit)
        return quantity, None if same else f"written in {written.value}, {product.name} is sold by {product.unit}"
    if sold_by.code == wrote.code:
        return quantity, None
    assert quantity.value is not None
    converted = convert(Decimal(quantity.value), wrote, sold_by)
    if converted is None:
        return quantity, f"written in {written.value}, {product.name} is sold by {product.unit}"
    return Field(quantity.text, str(converted), quantity.confidence, quantity.page, quantity.box,
                 f"{quantity.value}{written.value} = {converted}{product.unit}"), None


def _form_lines(session: Session, form_reading: Any, catalog: Sequence[Product],
                decision: _Decision) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    form = session.get(BuyerForm, form_reading.form_id)
    product_ids = list(form.product_ids) if form is not None else []
    by_id = {p.id: p for p in catalog}
    lines: list[dict[str, Any]] = []
    for reason in form_reading.reasons:
        decision.unsure(reason)
    if form_reading.missing_pages:
        decision.unsure(f"page(s) {', '.join(map(str, form_reading.missing_pages))} of the order form are missing")
    for row, value in sorted(form_reading.quantities.items()):
        product = by_id.get(product_ids[row - 1]) if 0 < row <= len(product_ids) else None
        quantity = Field(value.text, value.value, value.confidence, value.page, tuple(value.box), value.reason)
        name = product.name if product else f"row {row}"
        item = Field(name, name if product else None, 1.0 if product else 0.0, value.page, tuple(value.box),
                     None if product else f"row {row} names no product any more")
        match = ProductMatch(product.id, product.name, 1.0, "form") if product else \
            ProductMatch(None, "", 0.0, "none", reason=f"row {row} of the form names no product")
        lines.append({**_line_json(len(lines) + 1, ItemLine(item, quantity), match, product), "row": row})
    fields: dict[str, Any] = {}
    if form_reading.delivery_date is not None:
        d = form_reading.delivery_date
        fields["delivery_date"] = Field(d.text, d.value, d.confidence, d.page, tuple(d.box), d.reason).as_json()
    return lines, fields


# --- accepting -------------------------------------------------------------------------------


def _corrections_from_reading(reading: Mapping[str, Any]) -> dict[str, Any]:
    return {"lines": [{"position": line["position"], "product_id": line["product"]["product_id"],
                       "quantity": line["quantity"]["value"]} for line in reading.get("lines", [])],
            "delivery_date": (reading.get("fields", {}).get("delivery_date") or {}).get("value")}


def accept(session: Session, settings: Settings, fax_order: FaxOrder, body: Mapping[str, Any],
           *, operator: str = "an operator") -> None:
    """An operator's correction and acceptance: ``{lines?: [{product_id, quantity, item?}], delivery_date?,
    note?, buyer_id?, supplier_id?}``; what is left out is taken as read."""
    if fax_order.state != "needs_review":
        fire(session, settings, fax_order, "accept")  # raises: the table says why not
    if "buyer_id" in body:
        buyer = session.get(Buyer, body["buyer_id"]) if isinstance(body["buyer_id"], int) else None
        if buyer is None:
            raise InvalidRequest(f"buyer {body['buyer_id']!r} does not exist")
        fax_order.buyer_id = buyer.id
    if "supplier_id" in body:
        supplier = session.get(Supplier, body["supplier_id"]) if isinstance(body["supplier_id"], int) else None
        if supplier is None or supplier.buyer_id != fax_order.buyer_id:
            raise InvalidRequest(f"supplier {body['supplier_id']!r} is not one of the buyer's suppliers")
        fax_order.supplier_id = supplier.id
    merged = _corrections_from_reading(fax_order.reading) | {k: v for k, v in body.items()
                                                              if k in ("lines", "delivery_date", "note")}
    _accept(session, settings, fax_order, merged, by=operator)
    row = session.get(InboundMessage, fax_order.inbound_id, with_for_update=True)
    if row is not None and row.status == InboundStatus.REVIEW:
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; accepted by {operator} as order {fax_order.order_id}"


def discard(session: Session, settings: Settings, fax_order: FaxOrder, reason: str) -> None:
    fire(session, settings, fax_order, "discard", reason or "not an order")
    row = session.get(InboundMessage, fax_order.inbound_id, with_for_update=True)
    if row is not None and row.status == InboundStatus.REVIEW:
        row.status = InboundStatus.RESOLVED
        row.reason = f"{row.reason}; discarded: {reason or 'not an order'}"


def _accept(session: Session, settings: Settings, fax_order: FaxOrder, body: Mapping[str, Any], *, by: str) -> None:
    buyer = session.get(Buyer, fax_order.buyer_id) if fax_order.buyer_id else None
    supplier = session.get(Supplier, fax_order.supplier_id) if fax_order.supplier_id else None
    if buyer is None or supplier is None:
        raise InvalidRequest("the fax order needs a buyer_id and a supplier_id")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines: at least one line is needed")
    specs = []
    read_lines = fax_order.reading.get("lines", [])
    for i, raw in enumerate(raw_lines):
        where = f"lines[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidRequest(f"{where} must be an object")
        product = session.get(Product, raw.get("product_id")) if isinstance(raw.get("product_id"), int) else None
        if product is None or product.supplier_id != supplier.id:
            raise InvalidRequest(f"{where}.product_id: {raw.get('product_id')!r} is not a product of {supplier.name}")
        quantity = orders.parse_quantity(raw.get("quantity"), f"{where}.quantity")
        specs.append(LineSpec(product_id=product.id, product_name=product.name, quantity=quantity,
                              unit=product.unit, unit_price=product.unit_price, note=""))
        # The line as read: by the position the correction names, else the same place in the list.
        position = raw.get("position", i + 1)
        read = next((line for line in read_lines if line["position"] == position), None)
        written = raw.get("item") or (read["item"]["value"] or read["item"]["text"] if read else "")
        read_as = read["product"]["product_id"] if read else None
        if written and read_as != product.id and fax_order.layout == "free":
            _remember_alias(session, buyer, str(written), product, fax_order)
    address = session.scalars(select(DeliveryAddress).where(DeliveryAddress.buyer_id == buyer.id)
                              .order_by(DeliveryAddress.id)).first()
    if address is None:
        raise InvalidRequest(f"{buyer.name} has no delivery address; add one first")
    delivery = {"name": address.name, "postal_code": address.postal_code, "address": address.address,
                "phone": address.phone, "recipient": address.recipient}
    desired = orders.date_from(body.get("delivery_date"))
    note = str(body.get("note") or (fax_order.reading.get("fields", {}).get("note") or {}).get("value") or "")
    placed = orders.place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=address.id,
                          delivery=delivery, desired_date=desired, note=note[:2000],
                          orderer_name=f"{buyer.name}（FAX）", lines=specs)
    fax_order.order_id = placed.id
    fax_order.reason = None
    fire(session, settings, fax_order, "accept", f"by {by}: order {placed.number}", order=placed.id)
    record(session, orders.OBJECT_TYPE, placed.id, "source", f"from fax order {fax_order.id}",
           fax_order=fax_order.id, inbound_id=fax_order.inbound_id)
    _send_confirmation(session, settings, fax_order, buyer, placed)


def _remember_alias(session: Session, buyer: Buyer, written: str, product: Product, fax_order: FaxOrder) -> None:
    key = alias_key(written)
    if not key:
        return
    alias = session.scalars(select(ProductAlias).where(ProductAlias.buyer_id == buyer.id,
                                                       ProductAlias.alias_key == key)).first()
    if alias is None:
        session.add(ProductAlias(buyer_id=buyer.id, alias_key=key, alias=written[:255], product_id=product.id))
    else:
        alias.product_id, alias.alias = product.id, written[:255]
    record(session, OBJECT_TYPE, fax_order.id, "alias", f"{buyer.name} writes {written!r} for {product.name}",
           product=product.id)


def _confirmation_context(session: Session, fax_order: FaxOrder, buyer: Buyer, placed: Order) -> dict[str, Any]:
    supplier = session.get(Supplier, placed.supplier_id)
    return {"buyer": buyer, "supplier": supplier, "order": placed, "fax_order": fax_order,
            "lines": orders.lines_of(session, placed), "total": orders.total_of(orders.lines_of(session, placed)),
            "received_at": fax_order.received_at.astimezone(clock.TOKYO)}


def _send_confirmation(session: Session, settings: Settings, fax_order: FaxOrder, buyer: Buyer, placed: Order) -> None:
    """What was understood, back to the buyer: by fax to the number it faxed from, else by mail."""
    number = fax_order.sender_fax or buyer.fax or None
    if not number:
        _mail_confirmation(session, settings, fax_order, buyer, placed)
        return
    rendered = render_mail("fax_order_confirmation", buyer.language,
                           _confirmation_context(session, fax_order, buyer, placed))
    queue_fax(session, object_type=OBJECT_TYPE, object_id=fax_order.id, kind="fax_order_confirmation",
              number=number, title=rendered.subject, pdf=pdf_from_html(rendered.html),
              cause_inbound_id=fax_order.inbound_id)


def _mail_confirmation(session: Session, settings: Settings, fax_order: FaxOrder, buyer: Buyer,
                       placed: Order) -> None:
    queue_mail(session, object_type=OBJECT_TYPE, object_id=fax_order.id, kind="fax_order_confirmation",
               language=buyer.language, context=_confirmation_context(session, fax_order, buyer, placed),
               to_addr=buyer.email, to_name=buyer.name, from_addr=settings.from_address, from_name="Torii",
               domain=settings.mail_domain, cause_inbound_id=fax_order.inbound_id,
               hourly_limit=settings.mail_hourly_limit)


def after_fax(session: Session, settings: Settings, fax_order: FaxOrder, job: FaxJob) -> None:
    if job.kind != "fax_order_confirmation" or fax_order.state != "accepted":
        return
    if job.status == FaxStatus.SENT:
        fire(session, settings, fax_order, "confirmed", f"faxed to {job.number}")
    elif job.status == FaxStatus.FAILED:
        _confirmation_failed(session, settings, fax_order, f"the fax to {job.number} failed ({job.failure})")


def after_delivery(session: Session, settings: Settings, fax_order: FaxOrder, outbound: OutboundMessage) -> None:
    if outbound.kind != "fax_order_confirmation" or fax_order.state != "accepted":
        return
    if outbound.status == OutboundStatus.SENT:
        fire(session, settings, fax_order, "confirmed", f"mailed to {outbound.to_addr}")
    else:
        _confirmation_failed(session, settings, fax_order, f"the mail to {outbound.to_addr} failed")


def _confirmation_failed(session: Session, settings: Settings, fax_order: FaxOrder, how: str) -> None:
    """A fax that did not go through is mailed instead; with neither, an operator calls the buyer."""
    buyer = session.get(Buyer, fax_order.buyer_id) if fax_order.buyer_id else None
    already_mailed = session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.object_type == OBJECT_TYPE, OutboundMessage.object_id == fax_order.id,
        OutboundMessage.kind == "fax_order_confirmation").limit(1)) is not None
    placed = session.get(Order, fax_order.order_id) if fax_order.order_id is not None else None
    if buyer is not None and buyer.email and not already_mailed and placed is not None:
        _mail_confirmation(session, settings, fax_order, buyer, placed)
        record(session, OBJECT_TYPE, fax_order.id, "fallback", f"{how}; the confirmation goes by mail")
        return
    fax_order.flag = f"{how}: tell the buyer by phone that the order was taken"
    record(session, OBJECT_TYPE, fax_order.id, "flagged", fax_order.flag)
