"""Orders to suppliers off the platform (FAX・メール発注), after manual 004.

A buyer orders from a supplier that is not on the platform. The order sheet
(発注書) goes to the supplier by fax or by mail, per the supplier's channel; the
supplier answers by reply mail in its own words or by faxing the sheet back
with a box ticked: 受注します (confirm), 欠品あり (partial, with the quantity it
can deliver per line) or お受けできません (decline). Every change the supplier
makes reaches the buyer as an order confirmation mail (注文確認), and the
supplier gets an acknowledgement. A fax that fails after its retries falls back
to mail when the supplier has an address; otherwise the order is flagged for an
operator. No answer by ``answer_due_at``: the supplier is reminded and the buyer
told. Once shipped (出荷済) the delivery note (納品書) exists; inspection (検品)
records what arrived per line, and the order is delivered when every line is
inspected. The supplier may change its answer until the order is shipped.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.catalog import product_by_name
from workflows.clock import TOKYO
from workflows.config import Settings
from workflows.errors import InvalidRequest
from workflows.faxes import queue_fax
from workflows.invitation import new_reply_token
from workflows.letters import pdf_from_html
from workflows.machine import Machine, Refusal, Transition
from workflows.mail import MailAttachment, queue_mail, render_mail
from workflows.models import (
    Buyer,
    DeliveryAddress,
    Document,
    FaxJob,
    FaxStatus,
    InboundMessage,
    Order,
    OrderLine,
    OutboundMessage,
    OutboundStatus,
    Product,
    Supplier,
)
from workflows.order_documents import (
    OrderSheet,
    SheetLine,
    SheetParty,
    order_reference,
    render_delivery_note,
    render_order_sheet,
)
from workflows.timeline import record

log = logging.getLogger(__name__)

OBJECT_TYPE = "order"
ANSWERS = frozenset({"confirm", "partial", "decline"})
MAX_LINES = 200
MAX_QUANTITY = Decimal("1000000")


@dataclass
class OrderContext:
    session: Session
    settings: Settings
    order: Order
    inbound: InboundMessage | None = None
    quantities: dict[int, Decimal] = field(default_factory=dict)
    delivery_date: date | None = None
    shipped_on: date | None = None
    source_state: str = ""


# --- addresses and documents ------------------------------------------------------------------


def reply_address(order: Order, settings: Settings) -> str:
    return f"reply+{order.reply_token}@{settings.mail_domain}"


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                .order_by(OrderLine.position)))


def _parties(session: Session, order: Order) -> tuple[Buyer, Supplier]:
    buyer = session.get(Buyer, order.buyer_id)
    supplier = session.get(Supplier, order.supplier_id)
    assert buyer is not None and supplier is not None
    return buyer, supplier


def sheet_for(session: Session, order: Order) -> OrderSheet:
    """The order as its documents print it: what it was when ordered."""
    buyer, supplier = _parties(session, order)
    delivery = order.delivery
    return OrderSheet(
        order_id=order.id,
        number=order.number,
        ordered_at=order.created_at,
        orderer_name=order.orderer_name,
        buyer=SheetParty(company=buyer.name, phone=buyer.phone, fax=buyer.fax, email=buyer.email),
        supplier=SheetParty(company=supplier.name, person=supplier.contact_name, fax=supplier.fax_number or "",
                            email=supplier.email or ""),
        delivery=SheetParty(company=str(delivery.get("name", "")), person=str(delivery.get("recipient", "")),
                            postal_code=str(delivery.get("postal_code", "")),
                            address=str(delivery.get("address", "")), phone=str(delivery.get("phone", ""))),
        desired_date=order.desired_date,
        note=order.note,
        lines=tuple(SheetLine(position=line.position, product_name=line.product_name, quantity=line.quantity,
                              unit=line.unit, unit_price=line.unit_price, note=line.note,
                              delivered_quantity=line.confirmed_quantity)
                    for line in lines_of(session, order)),
        language=order.language,
    )


def _store_document(session: Session, order: Order, kind: str, pdf: bytes) -> Document:
    document = Document(object_type=OBJECT_TYPE, object_id=order.id, kind=kind,
                        filename=f"{order.number}-{kind.replace('_', '-')}.pdf", content_type="application/pdf",
                        data=pdf)
    session.add(document)
    session.flush()
    record(session, OBJECT_TYPE, order.id, "document", f"{kind.replace('_', ' ')} rendered ({len(pdf)} bytes)",
           document_id=document.id)
    return document


def latest_document(session: Session, order_id: int, kind: str) -> Document | None:
    return session.scalars(
        select(Document).where(Document.object_type == OBJECT_TYPE, Document.object_id == order_id,
                               Document.kind == kind).order_by(Document.id.desc()).limit(1)
    ).first()


def _order_sheet(session: Session, settings: Settings, order: Order) -> Document:
    """The order sheet, rendered once: every copy sent is the same document."""
    document = latest_document(session, order.id, "order_sheet")
    if document is None:
        pdf = render_order_sheet(sheet_for(session, order), reference=order_reference(order.id, settings.secret_key),
                                 reply_address=reply_address(order, settings), fax_number=settings.fax_number)
        document = _store_document(session, order, "order_sheet", pdf)
    return document


def total_of(lines: Sequence[OrderLine], *, confirmed: bool = False) -> int | None:
    """The amount in yen, tax excluded; None when a price is unknown."""
    total = Decimal(0)
    for line in lines:
        if line.unit_price is None:
            return None
        quantity = line.confirmed_quantity if confirmed and line.confirmed_quantity is not None else line.quantity
        total += quantity * line.unit_price
    return int(total.to_integral_value())


def _mail_context(session: Session, settings: Settings, order: Order) -> dict[str, Any]:
    buyer, supplier = _parties(session, order)
    lines = lines_of(session, order)
    return {"order": order, "buyer": buyer, "supplier": supplier, "lines": lines, "total": total_of(lines),
            "confirmed_total": total_of(lines, confirmed=True), "reply_address": reply_address(order, settings),
            "fax_number": settings.fax_number, "ordered_at": order.created_at.astimezone(TOKYO),
            "due_at": order.answer_due_at.astimezone(TOKYO) if order.answer_due_at else None}


def _mail_supplier(session: Session, settings: Settings, order: Order, kind: str, *,
                   inbound: InboundMessage | None = None, attach_sheet: bool = False,
                   template: str | None = None) -> OutboundMessage | None:
    buyer, supplier = _parties(session, order)
    assert supplier.email
    attachments: tuple[MailAttachment, ...] = ()
    if attach_sheet:
        sheet = _order_sheet(session, settings, order)
        attachments = (MailAttachment(f"{order.number}.pdf", "application/pdf", sheet.data),)
    return queue_mail(
        session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, template=template, language=order.language,
        context=_mail_context(session, settings, order) | {"reminder": kind == "order_reminder"},
        to_addr=supplier.email,
        to_name=supplier.contact_name or supplier.name,
        # Replies come back to the order whatever the supplier's client does with Reply-To.
        from_addr=reply_address(order, settings), from_name=buyer.name, domain=settings.mail_domain,
        reply_to=reply_address(order, settings), in_reply_to=inbound.message_id if inbound else None,
        cause_inbound_id=inbound.id if inbound else None, hourly_limit=settings.mail_hourly_limit,
        attachments=attachments,
    )


def _mail_buyer(session: Session, settings: Settings, order: Order, kind: str, *,
                inbound: InboundMessage | None = None) -> None:
    buyer, _ = _parties(session, order)
    queue_mail(
        session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, language=buyer.language,
        context=_mail_context(session, settings, order), to_addr=buyer.email, to_name=buyer.name,
        from_addr=settings.from_address, from_name="Torii", domain=settings.mail_domain,
        cause_inbound_id=inbound.id if inbound else None, hourly_limit=settings.mail_hourly_limit,
    )


def _fax_supplier(session: Session, settings: Settings, order: Order, kind: str, pdf: bytes, title: str, *,
                  inbound: InboundMessage | None = None) -> None:
    _, supplier = _parties(session, order)
    assert supplier.fax_number
    queue_fax(session, object_type=OBJECT_TYPE, object_id=order.id, kind=kind, number=supplier.fax_number,
              title=title, pdf=pdf, cause_inbound_id=inbound.id if inbound else None)


def _send_sheet(session: Session, settings: Settings, order: Order, channel: str) -> None:
    if channel == "fax":
        sheet = _order_sheet(session, settings, order)
        _fax_supplier(session, settings, order, "order_sheet", sheet.data, f"発注書 {order.number}")
    else:
        _mail_supplier(session, settings, order, "order_sheet", attach_sheet=True)


def _tell_supplier(session: Session, settings: Settings, order: Order, kind: str, *,
                   inbound: InboundMessage | None = None) -> None:
    """A short notice to the supplier by its own channel: mail when it has an address, else fax."""
    _, supplier = _parties(session, order)
    if supplier.email:
        _mail_supplier(session, settings, order, kind, inbound=inbound)
    elif supplier.fax_number:
        # A fax-only supplier gets the same notice as a one-page fax, rendered from the mail's HTML.
        rendered = render_mail(kind, order.language, _mail_context(session, settings, order))
        _fax_supplier(session, settings, order, kind, pdf_from_html(rendered.html), rendered.subject, inbound=inbound)


# --- the state machine ------------------------------------------------------------------------


def _apply_answer(ctx: OrderContext) -> None:
    order = ctx.order  # already in the state the answer leads to
    for line in lines_of(ctx.session, order):
        if order.state == "confirmed":
            line.confirmed_quantity = line.quantity
        elif order.state == "declined":
            line.confirmed_quantity = Decimal(0)
        else:
            line.confirmed_quantity = ctx.quantities.get(line.position, line.quantity)
    if ctx.delivery_date is not None:
        order.delivery_date = ctx.delivery_date
    if order.state == "declined":
        order.delivery_date = None
    order.flag = None  # the supplier answered: nothing is overdue or stuck any more


def _confirm_to_buyer(ctx: OrderContext) -> None:
    _mail_buyer(ctx.session, ctx.settings, ctx.order, "order_confirmation", inbound=ctx.inbound)


def _acknowledge_to_supplier(ctx: OrderContext) -> None:
    _tell_supplier(ctx.session, ctx.settings, ctx.order, "order_acknowledgement", inbound=ctx.inbound)


def _ship(ctx: OrderContext) -> None:
    order = ctx.order
    order.shipped_on = ctx.shipped_on or clock.today()
    pdf = render_delivery_note(sheet_for(ctx.session, order), shipped_on=order.shipped_on)
    _store_document(ctx.session, order, "delivery_note", pdf)


def _delivered(ctx: OrderContext) -> None:
    ctx.order.delivered_at = clock.now()


def _flag_undeliverable(ctx: OrderContext) -> None:
    ctx.order.flag = "the order sheet could not be delivered by fax or mail: call the supplier"


ANSWERABLE = frozenset({"placed", "sent", "undeliverable"})
SUPPLIER_CHANGES = (_apply_answer, _confirm_to_buyer, _acknowledge_to_supplier)
NOT_AFTER_SHIPPING = "the order is already shipped; a change must be agreed with the buyer directly"

MACHINE: Machine[OrderContext] = Machine(
    name="order",
    states=("placed", "sent", "confirmed", "partially_confirmed", "declined", "shipped", "delivered",
            "undeliverable"),
    initial="placed",
    final=frozenset({"delivered"}),
    transitions=(
        Transition("sent", frozenset({"placed"}), "sent"),
        Transition("undeliverable", frozenset({"placed"}), "undeliverable", (_flag_undeliverable,)),
        Transition("confirm", ANSWERABLE | {"partially_confirmed", "declined"}, "confirmed", SUPPLIER_CHANGES),
        Transition("partial", ANSWERABLE | {"confirmed", "partially_confirmed", "declined"}, "partially_confirmed",
                   SUPPLIER_CHANGES),
        Transition("decline", ANSWERABLE | {"confirmed", "partially_confirmed"}, "declined", SUPPLIER_CHANGES),
        Transition("ship", frozenset({"confirmed", "partially_confirmed"}), "shipped",
                   (_ship, _confirm_to_buyer)),
        Transition("deliver", frozenset({"shipped"}), "delivered", (_delivered,)),
    ),
    refusals=(
        Refusal("confirm", frozenset({"confirmed"}), "the order is already confirmed"),
        Refusal("decline", frozenset({"declined"}), "the order is already declined"),
        Refusal("confirm", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("partial", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("decline", frozenset({"shipped", "delivered"}), NOT_AFTER_SHIPPING),
        Refusal("ship", ANSWERABLE | {"declined"}, "only a confirmed order can be shipped"),
        Refusal("ship", frozenset({"shipped", "delivered"}), "the order is already shipped"),
    ),
)


def fire(session: Session, settings: Settings, order: Order, trigger: str, *,
         inbound: InboundMessage | None = None, quantities: Mapping[int, Decimal] | None = None,
         delivery_date: date | None = None, shipped_on: date | None = None) -> None:
    """Apply one event and record the transition; raises TransitionRefused, having run its effects."""
    ctx = OrderContext(session=session, settings=settings, order=order, inbound=inbound,
                       quantities=dict(quantities or {}), delivery_date=delivery_date, shipped_on=shipped_on,
                       source_state=order.state)
    if trigger == "partial":
        _check_partial(session, order, ctx.quantities)
    MACHINE.fire(order, trigger, ctx)
    record(session, OBJECT_TYPE, order.id, "transition", f"{trigger}: {ctx.source_state} → {order.state}",
           inbound_id=inbound.id if inbound else None, trigger=trigger, source=ctx.source_state, dest=order.state,
           quantities={str(k): str(v) for k, v in sorted(ctx.quantities.items())},
           delivery_date=delivery_date.isoformat() if delivery_date else None)


def _check_partial(session: Session, order: Order, quantities: Mapping[int, Decimal]) -> None:
    lines = {line.position: line for line in lines_of(session, order)}
    if not quantities:
        raise InvalidRequest("a partial confirmation needs the quantity that can be delivered per line")
    for position, quantity in quantities.items():
        line = lines.get(position)
        if line is None:
            raise InvalidRequest(f"the order has no line {position}")
        if quantity < 0 or quantity > line.quantity:
            raise InvalidRequest(f"line {position}: {quantity} is not between 0 and the {line.quantity} ordered")


def answer(session: Session, settings: Settings, order: Order, trigger: str, *,
           inbound: InboundMessage | None = None, details: Mapping[str, object] | None = None) -> None:
    """The supplier's answer (from a mail, a faxed-back sheet or an operator): the reading's data applied."""
    details = details or {}
    fire(session, settings, order, trigger, inbound=inbound, quantities=quantities_from(details.get("quantities")),
         delivery_date=date_from(details.get("delivery_date")))


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


# --- placing an order -------------------------------------------------------------------------


def _text(body: Mapping[str, Any], key: str, *, required: bool = False, multiline: bool = False,
          limit: int = 255) -> str:
    value = body.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{key} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"{key} is required")
    if not multiline and ("\n" in value or "\r" in value):
        raise InvalidRequest(f"{key} must be one line")
    if len(value) > limit:
        raise InvalidRequest(f"{key} is longer than {limit} characters")
    return value


def _int_field(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{key} must be an integer id")
    return value


@dataclass(frozen=True)
class LineSpec:
    product_id: int | None
    product_name: str
    quantity: Decimal
    unit: str
    unit_price: int | None
    note: str


def _line_specs(session: Session, supplier: Supplier, raw_lines: object) -> list[LineSpec]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines must be a non-empty list")
    if len(raw_lines) > MAX_LINES:
        raise InvalidRequest(f"an order has at most {MAX_LINES} lines")
    specs = []
    for number, raw in enumerate(raw_lines, start=1):
        where = f"lines[{number}]"
        if not isinstance(raw, dict):
            raise InvalidRequest(f"{where} must be an object")
        product: Product | None = None
        if raw.get("product_id") is not None:
            product = session.get(Product, raw["product_id"]) if isinstance(raw["product_id"], int) else None
            if product is None or product.supplier_id != supplier.id:
                raise InvalidRequest(f"{where}: product {raw['product_id']!r} is not one of {supplier.name}'s")
        else:
            name = _text(raw, "product_name", required=True)
            product = product_by_name(session, supplier.id, name)
            if product is None:
                raise InvalidRequest(f"{where}: {name!r} is not a product of {supplier.name}; register it first")
        unit_price = raw.get("unit_price", product.unit_price)
        if unit_price is not None and (isinstance(unit_price, bool) or not isinstance(unit_price, int)
                                       or unit_price < 0):
            raise InvalidRequest(f"{where}: unit_price must be a whole number of yen")
        specs.append(LineSpec(product_id=product.id, product_name=product.name,
                              quantity=parse_quantity(raw.get("quantity"), f"{where}.quantity"),
                              unit=_text(raw, "unit") or product.unit, unit_price=unit_price,
                              note=_text(raw, "note", multiline=True, limit=500)))
    return specs


def _delivery(session: Session, buyer: Buyer, body: Mapping[str, Any]) -> tuple[int | None, dict[str, Any]]:
    address_id = body.get("delivery_address_id")
    if address_id is None:
        addresses = list(session.scalars(select(DeliveryAddress).where(DeliveryAddress.buyer_id == buyer.id)
                                         .order_by(DeliveryAddress.id).limit(2)))
        if len(addresses) != 1:
            raise InvalidRequest("delivery_address_id is required" if addresses
                                 else f"{buyer.name} has no delivery address; add one first")
        address = addresses[0]
    else:
        found = session.get(DeliveryAddress, address_id) if isinstance(address_id, int) else None
        if found is None or found.buyer_id != buyer.id:
            raise InvalidRequest(f"delivery address {address_id!r} is not one of {buyer.name}'s")
        address = found
    return address.id, {"name": address.name, "postal_code": address.postal_code, "address": address.address,
                        "phone": address.phone, "recipient": address.recipient}


def create(session: Session, settings: Settings, body: Mapping[str, Any]) -> Order:
    """Place an order from an API body and send its sheet to the supplier."""
    buyer = session.get(Buyer, _int_field(body, "buyer_id"))
    if buyer is None:
        raise InvalidRequest(f"buyer {body.get('buyer_id')} does not exist")
    supplier = session.get(Supplier, _int_field(body, "supplier_id"))
    if supplier is None or supplier.buyer_id != buyer.id:
        raise InvalidRequest(f"supplier {body.get('supplier_id')} is not one of {buyer.name}'s suppliers")
    address_id, delivery = _delivery(session, buyer, body)
    return place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=address_id,
                 delivery=delivery, desired_date=date_from(body.get("desired_date")),
                 note=_text(body, "note", multiline=True, limit=2000),
                 orderer_name=_text(body, "orderer_name", required=True),
                 lines=_line_specs(session, supplier, body.get("lines")))


def place(session: Session, settings: Settings, *, buyer: Buyer, supplier: Supplier, delivery_address_id: int | None,
          delivery: dict[str, Any], desired_date: date | None, note: str, orderer_name: str,
          lines: Sequence[LineSpec], reorder_of: int | None = None) -> Order:
    now = clock.now()
    if desired_date is not None and desired_date < clock.day_of(now):
        raise InvalidRequest(f"desired_date {desired_date} is in the past")
    token = new_reply_token()
    order = Order(number=f"pending-{token}", buyer_id=buyer.id, supplier_id=supplier.id, state=MACHINE.initial,
                  reply_token=token, orderer_name=orderer_name, delivery_address_id=delivery_address_id,
                  delivery=delivery, desired_date=desired_date, note=note, language=supplier.language,
                  reorder_of=reorder_of, created_at=now,
                  answer_due_at=now + timedelta(hours=settings.order_answer_hours))
    session.add(order)
    session.flush()
    order.number = f"PO-{now.astimezone(TOKYO).year}-{order.id:06d}"
    session.add_all(OrderLine(order_id=order.id, position=position, product_id=spec.product_id,
                              product_name=spec.product_name, quantity=spec.quantity, unit=spec.unit,
                              unit_price=spec.unit_price, note=spec.note)
                    for position, spec in enumerate(lines, start=1))
    session.flush()
    summary = f"order {order.number} from {buyer.name} to {supplier.name}, {len(lines)} lines"
    if reorder_of:
        summary += f" (re-order of order {reorder_of})"
    record(session, OBJECT_TYPE, order.id, "created", summary, orderer=orderer_name, reorder_of=reorder_of)
    _send_sheet(session, settings, order, supplier.channel)
    return order


def reorder(session: Session, settings: Settings, previous: Order, body: Mapping[str, Any]) -> Order:
    """The same order again (manual 004: 再注文): same supplier, address and lines; today's prices."""
    buyer, supplier = _parties(session, previous)
    specs = []
    for line in lines_of(session, previous):
        product = session.get(Product, line.product_id) if line.product_id else None
        specs.append(LineSpec(product_id=product.id if product else None, product_name=line.product_name,
                              quantity=line.quantity, unit=line.unit,
                              unit_price=product.unit_price if product else line.unit_price, note=line.note))
    address = session.get(DeliveryAddress, previous.delivery_address_id) if previous.delivery_address_id else None
    delivery = previous.delivery if address is None else {
        "name": address.name, "postal_code": address.postal_code, "address": address.address,
        "phone": address.phone, "recipient": address.recipient}
    note = _text(body, "note", multiline=True, limit=2000) if "note" in body else previous.note
    order = place(session, settings, buyer=buyer, supplier=supplier, delivery_address_id=previous.delivery_address_id,
                  delivery=delivery, desired_date=date_from(body.get("desired_date")), note=note,
                  orderer_name=_text(body, "orderer_name") or previous.orderer_name, lines=specs,
                  reorder_of=previous.id)
    record(session, OBJECT_TYPE, previous.id, "reordered", f"ordered again as {order.number}", reorder=order.id)
    return order


# --- after shipping ---------------------------------------------------------------------------


def ship(session: Session, settings: Settings, order: Order, shipped_on: date | None = None) -> None:
    fire(session, settings, order, "ship", shipped_on=shipped_on)


def expected_quantity(line: OrderLine) -> Decimal:
    return line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity


def inspect(session: Session, settings: Settings, order: Order, body: Mapping[str, Any]) -> None:
    """Inspection (検品): what arrived, per line; delivered once every line is inspected."""
    if order.state != "shipped":
        raise InvalidRequest(f"only a shipped order can be inspected; order {order.number} is {order.state}")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidRequest("lines must be a non-empty list of {position, delivered_quantity}")
    lines = {line.position: line for line in lines_of(session, order)}
    now = clock.now()
    checked = []
    for raw in raw_lines:
        if not isinstance(raw, dict) or not isinstance(raw.get("position"), int) or raw["position"] not in lines:
            raise InvalidRequest(f"{raw!r}: position must name a line of the order")
        line = lines[raw["position"]]
        delivered = raw.get("delivered_quantity", str(expected_quantity(line)))
        line.delivered_quantity = parse_quantity(delivered, f"line {line.position}", allow_zero=True)
        line.inspected_at = now
        checked.append(f"{line.position}: {line.delivered_quantity}/{expected_quantity(line)} {line.unit}")
    record(session, OBJECT_TYPE, order.id, "inspection", "inspected " + ", ".join(checked))
    if all(line.inspected_at is not None or expected_quantity(line) == 0 for line in lines.values()):
        fire(session, settings, order, "deliver")


def undelivered_lines(lines: Sequence[OrderLine]) -> list[OrderLine]:
    return [line for line in lines if expected_quantity(line) > 0 and
            (line.inspected_at is None or (line.delivered_quantity or 0) < expected_quantity(line))]


UNDELIVERED_STATES = ("confirmed", "partially_confirmed", "shipped", "delivered")


# --- delivery of the sheet, fallbacks and timers ----------------------------------------------


def _sheet_sent(session: Session, settings: Settings, order: Order) -> None:
    if MACHINE.allows(order.state, "sent"):
        fire(session, settings, order, "sent")


def _mailed_sheet(session: Session, order: Order) -> bool:
    return session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.object_type == OBJECT_TYPE, OutboundMessage.object_id == order.id,
        OutboundMessage.kind == "order_sheet").limit(1)) is not None


def _faxed_sheet(session: Session, order: Order) -> bool:
    return session.scalar(select(FaxJob.id).where(
        FaxJob.object_type == OBJECT_TYPE, FaxJob.object_id == order.id, FaxJob.kind == "order_sheet").limit(1)
    ) is not None


def _sheet_failed(session: Session, settings: Settings, order: Order, how: str) -> None:
    """The sheet did not get through one way: try the other way once, else flag the order for an operator."""
    _, supplier = _parties(session, order)
    if supplier.email and not _mailed_sheet(session, order):
        record(session, OBJECT_TYPE, order.id, "fallback", f"{how}; sending the order sheet by mail instead")
        _send_sheet(session, settings, order, "mail")
    elif supplier.fax_number and not _faxed_sheet(session, order):
        record(session, OBJECT_TYPE, order.id, "fallback", f"{how}; sending the order sheet by fax instead")
        _send_sheet(session, settings, order, "fax")
    elif MACHINE.allows(order.state, "undeliverable"):
        record(session, OBJECT_TYPE, order.id, "flagged", f"{how}; no other way to reach {supplier.name}")
        fire(session, settings, order, "undeliverable")


def after_fax(session: Session, settings: Settings, order: Order, job: FaxJob) -> None:
    if job.kind != "order_sheet" or job.status not in (FaxStatus.SENT, FaxStatus.FAILED):
        return
    if job.status == FaxStatus.SENT:
        _sheet_sent(session, settings, order)
    else:
        _sheet_failed(session, settings, order, f"the fax to {job.number} failed ({job.failure})")


def after_delivery(session: Session, settings: Settings, order: Order, outbound: OutboundMessage) -> None:
    if outbound.kind != "order_sheet":
        return
    if outbound.status == OutboundStatus.SENT:
        _sheet_sent(session, settings, order)
    else:
        _sheet_failed(session, settings, order, f"the mail to {outbound.to_addr} failed")


def overdue_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(select(Order.id).where(
        Order.state.in_(("placed", "sent")), Order.reminded_at.is_(None), Order.answer_due_at <= now,
    ).order_by(Order.id).limit(limit)))


def remind(session: Session, settings: Settings, order: Order) -> bool:
    """No answer by the deadline: remind the supplier, tell the buyer, flag the order. Once per order."""
    now = clock.now()
    if order.state not in ("placed", "sent") or order.reminded_at is not None or order.answer_due_at is None \
            or order.answer_due_at > now:
        return False
    order.reminded_at = now
    order.flag = "no answer from the supplier by " + order.answer_due_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    record(session, OBJECT_TYPE, order.id, "overdue", order.flag)
    _, supplier = _parties(session, order)
    if supplier.email:
        _mail_supplier(session, settings, order, "order_reminder", attach_sheet=True, template="order_sheet")
    else:
        sheet = _order_sheet(session, settings, order)
        _fax_supplier(session, settings, order, "order_reminder", sheet.data, f"【再送】発注書 {order.number}")
    _mail_buyer(session, settings, order, "order_overdue")
    return True
