"""The console's lists and the screens of one invitation, order or outgoing mail.

    GET /                              overview: counts per state, the latest few of each, links to the lists
    GET /invitations                   ?from=&to= (received, Tokyo days) &state= &q= (partner, issuer) &page=
    GET /invitations/{id}              one invitation and its timeline
    GET /orders                        ?state= &undelivered=1 &flagged=1 &q= (number, supplier) &page=
    GET /orders/{id}                   lines, totals, documents, inspection, timeline
    GET /fax-orders                    ?state= &page= (one fax order's screen is /fax-orders/{id})
    GET /outbox                        every outgoing mail and fax job: ?channel=mail|fax &status= &page=
    GET /outbox/{id}                   one outgoing mail: headers, text, the HTML part framed, attachments
    GET /outbox/{id}/html              the mail's HTML part, sandboxed: it can run no script, load nothing
    GET /outbox/{id}/parts/{n}         the n-th MIME part's bytes (an order sheet, a letter)
    GET /outbox/fax/{id}/document      the PDF a fax job sends

Every list shows only the rows its operator may see (``workflows.access.visible``), 50 a page,
its filters kept in the pager's links. Filters are read leniently: an empty or unreadable value
filters nothing, as a form submitted with blank fields sends them.
"""

from __future__ import annotations

import email
import email.policy
import re
import typing
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage, MIMEPart
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, String, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from gateway.api.orders import documents_of
from gateway.api.shared import Me, session_dependency
from gateway.console.pages import paginate, render
from workflows import fax_order as fax_orders
from workflows import invitation
from workflows import order as orders
from workflows.access import Principal, get_visible, visible
from workflows.clock import TOKYO
from workflows.credential_answers import current_locks
from workflows.errors import NotFound
from workflows.models import (
    FOR_OPERATOR,
    Buyer,
    FaxJob,
    FaxOrder,
    FaxStatus,
    InboundMessage,
    Invitation,
    Order,
    OrderLine,
    OutboundMessage,
    OutboundStatus,
    Supplier,
)
from workflows.order.inspection import expected_quantity
from workflows.timeline import timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# A mail's HTML part is shown framed in its own origin-less sandbox: no script, nothing fetched from
# anywhere (a tracking pixel included); inline styles only, and only the console may frame it.
MAIL_HTML_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
# Parts shown in the browser as they are; anything else (HTML, SVG ...) is downloaded, and sandboxed besides.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"})
LATEST = 5  # rows per section on the overview
CHANNELS = ("mail", "fax")
OUTBOX_STATUSES = tuple(dict.fromkeys([*OutboundStatus, *FaxStatus]))


# --- reading filters -------------------------------------------------------------------------------

def page_number(text: str) -> int:
    return int(text) if text.isdigit() and int(text) > 0 else 1


def day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip().replace("/", "-")) if text.strip() else None
    except ValueError:
        return None


def tokyo_midnight(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=TOKYO)


def contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own % and _ taken literally."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def one_of(value: str, allowed: Sequence[str]) -> str:
    return value if value in allowed else ""


def state_counts(session: Session, model: Any, me: Principal, states: Sequence[str], column: Any = None
                 ) -> list[tuple[str, int]]:
    """(state, how many) in the machine's order, the states no row is in left out."""
    column = column if column is not None else model.state
    found: dict[str, int] = dict(session.execute(visible(select(column, func.count()), model, me)
                                                 .group_by(column)).all())
    return [(state, found[state]) for state in (*states, *sorted(set(found) - set(states))) if found.get(state)]


def names(session: Session, model: Any, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all()) if wanted else {}


def outbox_query(me: Principal, channel: str = "", status: str = "") -> Select[Any]:
    """Outgoing mail and fax jobs in one list, newest first: each row a key, ``mail:12`` or ``fax:3``."""
    parts: list[Select[Any]] = []
    if channel in ("", "mail"):
        mail = visible(typing.cast(Select[Any], select(
            (literal("mail:") + cast(OutboundMessage.id, String)).label("key"),
            OutboundMessage.created_at.label("at"), OutboundMessage.id.label("row_id"))), OutboundMessage, me)
        parts.append(mail.where(OutboundMessage.status == status) if status else mail)
    if channel in ("", "fax"):
        fax = visible(typing.cast(Select[Any], select(
            (literal("fax:") + cast(FaxJob.id, String)).label("key"),
            FaxJob.created_at.label("at"), FaxJob.id.label("row_id"))), FaxJob, me)
        parts.append(fax.where(FaxJob.status == status) if status else fax)
    both = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return select(both.c.key).order_by(both.c.at.desc(), both.c.row_id.desc(), both.c.key.desc())


def outbox_rows(session: Session, keys: Sequence[str]) -> list[tuple[str, Any]]:
    """("mail", OutboundMessage) or ("fax", FaxJob) for each key, in the keys' order."""
    ids: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        channel, _, row_id = key.partition(":")
        ids[channel].append(int(row_id))
    rows: dict[str, Any] = {}
    if ids["mail"]:
        rows |= {f"mail:{r.id}": r for r in session.scalars(select(OutboundMessage)
                                                             .where(OutboundMessage.id.in_(ids["mail"])))}
    if ids["fax"]:
        rows |= {f"fax:{r.id}": r for r in session.scalars(select(FaxJob).where(FaxJob.id.in_(ids["fax"])))}
    return [(key.partition(":")[0], rows[key]) for key in keys if key in rows]


def lines_by_order(session: Session, order_ids: Sequence[int]) -> dict[int, list[OrderLine]]:
    found: dict[int, list[OrderLine]] = defaultdict(list)
    if order_ids:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids))
                                    .order_by(OrderLine.order_id, OrderLine.position)):
            found[line.order_id].append(line)
    return found


# --- one outgoing mail ----------------------------------------------------------------------------

def parsed_mail(row: OutboundMessage) -> EmailMessage:
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part_text(part: MIMEPart | None) -> str:
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):  # an unknown or lying charset: show what can be shown
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def leaf_parts(message: EmailMessage) -> list[tuple[int, EmailMessage]]:
    """The parts that carry content, numbered as ``/outbox/{id}/parts/{n}`` names them."""
    return [(n, part) for n, part in enumerate(message.walk())
            if isinstance(part, EmailMessage) and not part.is_multipart()]


def attachments_of(message: EmailMessage) -> list[dict[str, Any]]:
    bodies = {id(message.get_body(preferencelist=("plain",))), id(message.get_body(preferencelist=("html",)))}
    found = []
    for n, part in leaf_parts(message):
        if id(part) in bodies:
            continue
        payload = part.get_payload(decode=True)
        found.append({"n": n, "filename": part.get_filename() or f"part-{n}", "type": part.get_content_type(),
                      "size": len(payload) if isinstance(payload, bytes) else 0})
    return found


def content_disposition(kind: str, filename: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "part"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def lists_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request, me: Me, session: Session = Depends(session_dep)) -> Response:
        def latest(model: Any) -> list[Any]:
            return list(session.scalars(visible(select(model), model, me).order_by(model.id.desc()).limit(LATEST)))

        review = visible(select(InboundMessage).where(InboundMessage.status.in_(FOR_OPERATOR)),
                         InboundMessage, me)
        latest_orders = latest(Order)
        latest_fax_orders = latest(FaxOrder)
        outbox_keys = list(session.scalars(outbox_query(me).limit(LATEST)))
        return render(request, "console.html", {
            "review_count": session.scalar(select(func.count()).select_from(review.subquery())) or 0,
            "review": list(session.scalars(review.order_by(InboundMessage.id).limit(LATEST))),
            "locks": [] if me.scoped else current_locks(session, runtime.settings),
            "invitation_counts": state_counts(session, Invitation, me, invitation.MACHINE.states),
            "invitations": latest(Invitation),
            "order_counts": state_counts(session, Order, me, orders.MACHINE.states),
            "undelivered_count": session.scalar(visible(select(func.count(Order.id)).where(orders.undelivered_clause()),
                                                        Order, me)) or 0,
            "flagged_count": session.scalar(visible(select(func.count(Order.id)).where(Order.flag.is_not(None)),
                                                    Order, me)) or 0,
            "orders": latest_orders,
            "fax_order_counts": state_counts(session, FaxOrder, me, fax_orders.MACHINE.states),
            "fax_orders": latest_fax_orders,
            "mail_counts": state_counts(session, OutboundMessage, me, tuple(OutboundStatus), OutboundMessage.status),
            "fax_counts": state_counts(session, FaxJob, me, tuple(FaxStatus), FaxJob.status),
            "outbox": outbox_rows(session, outbox_keys),
            "messages": latest(InboundMessage),
            "buyers": names(session, Buyer, {o.buyer_id for o in latest_orders}
                            | {f.buyer_id for f in latest_fax_orders}),
            "suppliers": names(session, Supplier, {o.supplier_id for o in latest_orders}),
        })

    @router.get("/invitations", response_class=HTMLResponse)
    def invitation_list(request: Request, me: Me, session: Session = Depends(session_dep),
                        received_from: str = Query("", alias="from"), received_to: str = Query("", alias="to"),
                        state: str = "", q: str = "", page: str = "1") -> Response:
        states = invitation.MACHINE.states
        first, last, state, q = day(received_from), day(received_to), one_of(state, states), q.strip()
        query = visible(select(Invitation), Invitation, me).order_by(Invitation.id.desc())
        if first is not None:
            query = query.where(Invitation.created_at >= tokyo_midnight(first))
        if last is not None:
            query = query.where(Invitation.created_at < tokyo_midnight(last + timedelta(days=1)))
        if state:
            query = query.where(Invitation.state == state)
        if q:
            pattern = contains(q)
            query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in (
                Invitation.partner_company, Invitation.partner_name, Invitation.partner_email,
                Invitation.issuer_company))))
        filters = {"from": first.isoformat() if first else "", "to": last.isoformat() if last else "",
                   "state": state, "q": q}
        unread = [text for text, read in ((received_from, first), (received_to, last)) if text.strip() and not read]
        return render(request, "invitations.html", {
            "page": paginate(session, query, page_number(page)), "states": states,
            "filters": {k: v for k, v in filters.items() if v}, "form": filters, "unread": unread})

    @router.get("/invitations/{invitation_id}", response_class=HTMLResponse)
    def invitation_page(invitation_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                        ) -> Response:
        inv = get_visible(session, Invitation, invitation_id, "invitation", me)
        return render(request, "invitation.html", {
            "inv": inv, "events": timeline(session, invitation.OBJECT_TYPE, inv.id)})

    @router.get("/orders", response_class=HTMLResponse)
    def order_list(request: Request, me: Me, session: Session = Depends(session_dep), state: str = "",
                   undelivered: str = "", flagged: str = "", q: str = "", page: str = "1") -> Response:
        states = orders.MACHINE.states
        state, q = one_of(state, states), q.strip()
        undelivered, flagged = ("1" if undelivered in ("1", "true", "on") else ""), \
            ("1" if flagged in ("1", "true", "on") else "")
        query = visible(select(Order), Order, me).order_by(Order.id.desc())
        if state:
            query = query.where(Order.state == state)
        if undelivered:
            query = query.where(orders.undelivered_clause())
        if flagged:
            query = query.where(Order.flag.is_not(None))
        if q:
            pattern = contains(q)
            query = query.where(or_(Order.number.ilike(pattern, escape="\\"), Order.supplier_id.in_(
                select(Supplier.id).where(Supplier.name.ilike(pattern, escape="\\")))))
        found = paginate(session, query, page_number(page))
        lines = lines_by_order(session, [o.id for o in found.rows])
        filters = {"state": state, "undelivered": undelivered, "flagged": flagged, "q": q}
        return render(request, "orders.html", {
            "page": found, "states": states, "filters": {k: v for k, v in filters.items() if v}, "form": filters,
            "buyers": names(session, Buyer, {o.buyer_id for o in found.rows}),
            "suppliers": names(session, Supplier, {o.supplier_id for o in found.rows}),
            "totals": {o.id: orders.total_of(lines[o.id]) for o in found.rows},
            "undelivered": {o.id: [line.position for line in orders.undelivered_lines(lines[o.id])]
                            for o in found.rows if o.state in orders.UNDELIVERED_STATES}})

    @router.get("/orders/{order_id}", response_class=HTMLResponse)
    def order_page(order_id: int, request: Request, me: Me, session: Session = Depends(session_dep)) -> Response:
        found = get_visible(session, Order, order_id, "order", me)
        lines = orders.lines_of(session, found)
        missing = {line.position for line in orders.undelivered_lines(lines)} \
            if found.state in orders.UNDELIVERED_STATES else set()
        return render(request, "order.html", {
            "order": found, "buyer": session.get(Buyer, found.buyer_id),
            "supplier": session.get(Supplier, found.supplier_id), "lines": lines,
            "expected": {line.position: expected_quantity(line) for line in lines}, "missing": missing,
            "total": orders.total_of(lines), "confirmed_total": orders.total_of(lines, confirmed=True),
            "documents": documents_of(session, found.id),
            "events": timeline(session, orders.OBJECT_TYPE, found.id)})

    @router.get("/fax-orders", response_class=HTMLResponse)
    def fax_order_list(request: Request, me: Me, session: Session = Depends(session_dep), state: str = "",
                       page: str = "1") -> Response:
        states = fax_orders.MACHINE.states
        state = one_of(state, states)
        query = visible(select(FaxOrder), FaxOrder, me).order_by(FaxOrder.id.desc())
        if state:
            query = query.where(FaxOrder.state == state)
        found = paginate(session, query, page_number(page))
        return render(request, "fax_orders.html", {
            "page": found, "states": states, "filters": {"state": state} if state else {}, "form": {"state": state},
            "buyers": names(session, Buyer, {f.buyer_id for f in found.rows}),
            "suppliers": names(session, Supplier, {f.supplier_id for f in found.rows}),
            "numbers": dict(session.execute(select(Order.id, Order.number).where(
                Order.id.in_({f.order_id for f in found.rows if f.order_id}))).all())})

    @router.get("/outbox", response_class=HTMLResponse)
    def outbox_list(request: Request, me: Me, session: Session = Depends(session_dep), channel: str = "",
                    status: str = "", page: str = "1") -> Response:
        channel, status = one_of(channel, CHANNELS), one_of(status, OUTBOX_STATUSES)
        found = paginate(session, outbox_query(me, channel, status), page_number(page))
        filters = {"channel": channel, "status": status}
        return render(request, "outbox.html", {
            "page": found, "rows": outbox_rows(session, found.rows), "channels": CHANNELS,
            "statuses": OUTBOX_STATUSES, "filters": {k: v for k, v in filters.items() if v}, "form": filters})

    @router.get("/outbox/{outbound_id}", response_class=HTMLResponse)
    def outbound_page(outbound_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                      ) -> Response:
        row = get_visible(session, OutboundMessage, outbound_id, "outbound message", me)
        message = parsed_mail(row)
        return render(request, "outbound.html", {
            "row": row, "headers": [(name, str(message.get(name, ""))) for name in
                                    ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To")
                                    if message.get(name) is not None],
            "text": part_text(message.get_body(preferencelist=("plain",))),
            "has_html": message.get_body(preferencelist=("html",)) is not None,
            "attachments": attachments_of(message)})

    @router.get("/outbox/{outbound_id}/html")
    def outbound_html(outbound_id: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        row = get_visible(session, OutboundMessage, outbound_id, "outbound message", me)
        html = parsed_mail(row).get_body(preferencelist=("html",))
        if html is None:
            raise NotFound(f"outbound message {outbound_id} has no HTML part")
        return HTMLResponse(part_text(html), headers={"Content-Security-Policy": MAIL_HTML_POLICY,
                                                      "X-Frame-Options": "SAMEORIGIN"})

    @router.get("/outbox/{outbound_id}/parts/{n}")
    def outbound_part(outbound_id: int, n: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        row = get_visible(session, OutboundMessage, outbound_id, "outbound message", me)
        part = dict(leaf_parts(parsed_mail(row))).get(n)
        payload = part.get_payload(decode=True) if part is not None else None
        if part is None or not isinstance(payload, bytes):
            raise NotFound(f"outbound message {outbound_id} has no part {n}")
        content_type = part.get_content_type()
        filename = part.get_filename() or f"part-{n}"
        if content_type in INLINE_TYPES:
            media_type = f"{content_type}; charset={part.get_content_charset() or 'utf-8'}" \
                if content_type.startswith("text/") else content_type
            return Response(payload, media_type=media_type,
                            headers={"Content-Disposition": content_disposition("inline", filename)})
        return Response(payload, media_type=content_type, headers={
            "Content-Disposition": content_disposition("attachment", filename),
            "Content-Security-Policy": MAIL_HTML_POLICY})

    @router.get("/outbox/fax/{job_id}/document")
    def fax_document(job_id: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        job = get_visible(session, FaxJob, job_id, "fax job", me)
        return Response(job.pdf, media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition("inline", f"fax-{job.id}-{job.kind}.pdf")})

    return router
