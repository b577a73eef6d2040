"""Database rows: what is received, what each business object is, what is sent.

Status values are StrEnums stored as plain strings, so the schema is the same on
SQLite and PostgreSQL and a new value needs no migration.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column
from sqlalchemy.types import TypeDecorator

from workflows import clock


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals (quantities such as 2.5 kg) as canonical text: SQLite has no decimal type."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, date: Date, Decimal: DecimalText, dict[str, Any]: JSON,
                           list[Any]: JSON}


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored and acknowledged, not yet processed
    PROCESSED = "processed"  # applied to its object
    IGNORED = "ignored"  # kept, deliberately changes nothing (auto-reply, bounce, duplicate answer)
    REFUSED = "refused"  # understood, but the object's state does not allow it
    REVIEW = "review"  # a person must decide; reason says why
    UNMATCHED = "unmatched"  # belongs to no known object (unknown or forged token)
    RESOLVED = "resolved"  # was in review; an operator decided
    FAILED = "failed"  # processing it killed the worker every time it was tried; reason says how often


# What waits for an operator: a failed message is kept for one like a message in review, since no
# worker will take it again; both are listed, decided and dismissed alike.
FOR_OPERATOR = (InboundStatus.REVIEW, InboundStatus.FAILED)


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class RawBlob(Base):
    """Raw bytes exactly as received, keyed by their SHA-256 (stored once)."""

    __tablename__ = "raw_blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    channel: Mapped[str] = mapped_column(String(16))  # smtp, imap, file
    peer: Mapped[str | None] = mapped_column(String(255))
    mail_from: Mapped[str | None] = mapped_column(String(998))  # envelope; "" is the null sender
    rcpt_tos: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    from_addr: Mapped[str | None] = mapped_column(String(998), index=True)  # lockout counts by sender
    subject: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("raw_blobs.sha256"))
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED, index=True)
    kind: Mapped[str | None] = mapped_column(String(32))  # reply, auto_reply, bounce, bulk, unknown
    reason: Mapped[str | None] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    parse: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Times a worker began processing it, and when it last did: a message that kills its worker (out of
    # memory, kill -9) is tried again once that attempt's lease is over, up to TORII_INBOUND_MAX_ATTEMPTS
    # times, then failed (workflows/inbound/attempts.py, gateway/sweep.py).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_inbound_object", "object_type", "object_id"),)


class Invitation(Base):
    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    issuer_company: Mapped[str] = mapped_column(String(255))
    issuer_name: Mapped[str] = mapped_column(String(255))
    issuer_email: Mapped[str] = mapped_column(String(320))
    partner_company: Mapped[str] = mapped_column(String(255))
    partner_name: Mapped[str] = mapped_column(String(255))
    partner_email: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    approval_required: Mapped[bool] = mapped_column(Boolean, default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="ja")
    state: Mapped[str] = mapped_column(String(32), index=True)
    contact_person: Mapped[str | None] = mapped_column(String(255))
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Paper invitations (fax, postcard): where the letter goes, and its temporary credentials, hashed.
    fax_number: Mapped[str | None] = mapped_column(String(32))
    temp_id_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    temp_password_hash: Mapped[str | None] = mapped_column(String(255))
    redeemed_at: Mapped[datetime | None] = mapped_column(default=None)


class Buyer(Base):
    """A business on the platform that orders (事業者); order confirmations go to its email."""

    __tablename__ = "buyers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(32), default="")
    fax: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(8), default="ja")


class DeliveryAddress(Base):
    """One of a buyer's delivery addresses (お届け先), known by its name."""

    __tablename__ = "delivery_addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    recipient: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (UniqueConstraint("buyer_id", "name"),)


class Business(Base):
    """One of a buyer's businesses (a restaurant of the group): its orders' confirmations and its partners'
    notices go to its own address (manual 004)."""

    __tablename__ = "businesses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(32), default="")
    fax: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(8), default="ja")

    __table_args__ = (UniqueConstraint("buyer_id", "name"),)


class Supplier(Base):
    """A buyer's supplier off the platform (FAX・メール発注先): reached by fax or mail."""

    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    contact_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    fax_number: Mapped[str | None] = mapped_column(String(32))  # E.164
    channel: Mapped[str] = mapped_column(String(8))  # preferred: fax or mail
    language: Mapped[str] = mapped_column(String(8), default="ja")

    __table_args__ = (UniqueConstraint("buyer_id", "name"),)


class Product(Base):
    """A supplier's product, managed by name: registering an existing name overwrites it (manual 004)."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))  # the name normalized: the identity
    unit: Mapped[str] = mapped_column(String(32), default="")
    unit_price: Mapped[int | None] = mapped_column(Integer)  # yen, tax excluded
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("supplier_id", "name_key"),)


class Order(Base):
    """An order to a supplier off the platform; what it was at ordering time is copied onto it."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    orderer_name: Mapped[str] = mapped_column(String(255))  # as it was when ordered
    orderer_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))  # the buyer's user who ordered
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))  # which business ordered
    # The buyer and its business as they were when ordered (name, email, phone, fax, language): documents print
    # this and confirmations go to its address, whatever is renamed later. None: ordered before there was one.
    buyer_party: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    delivery_address_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_addresses.id"))
    delivery: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the address as it was when ordered
    desired_date: Mapped[date | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="ja")  # the supplier's
    reorder_of: Mapped[int | None] = mapped_column(Integer)
    answer_due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    flag: Mapped[str | None] = mapped_column(Text)  # why an operator must look at it
    delivery_date: Mapped[date | None] = mapped_column(default=None)  # as the supplier confirmed it
    shipped_on: Mapped[date | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, as printed on the order sheet
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    product_name: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column()
    unit: Mapped[str] = mapped_column(String(32), default="")
    unit_price: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_quantity: Mapped[Decimal | None] = mapped_column(default=None)  # what the supplier will deliver
    delivered_quantity: Mapped[Decimal | None] = mapped_column(default=None)  # what inspection (検品) found
    inspected_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("order_id", "position"),)


class BuyerForm(Base):
    """The gateway's own order form, as handed to one buyer for one supplier: its printed rows, in order.

    The code on every page names the form, so a faxed form is read by position even after
    the supplier's product list has changed.
    """

    __tablename__ = "buyer_forms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    product_ids: Mapped[list[Any]] = mapped_column(default=list)  # row n (1-based) orders product_ids[n-1]
    language: Mapped[str] = mapped_column(String(8), default="ja")


class FaxOrder(Base):
    """An order a legacy buyer sent by fax: what was read from the pages, field by field, and what became of it."""

    __tablename__ = "fax_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column()  # when the fax reached us: relative dates count from it
    sender_fax: Mapped[str | None] = mapped_column(String(32))  # E.164, as the fax service reported it
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("buyer_forms.id"))
    layout: Mapped[str] = mapped_column(String(16), default="")  # form, free, or "" when nothing was read
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)  # of the pages' content
    reading: Mapped[dict[str, Any]] = mapped_column(default=dict)  # fields with confidence and place
    reason: Mapped[str | None] = mapped_column(Text)  # why it needs review
    flag: Mapped[str | None] = mapped_column(Text)  # why an operator must look at it after acceptance
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))  # the order it became


class ProductAlias(Base):
    """A buyer's own name for a product, learnt from an operator's correction of one of its faxes."""

    __tablename__ = "product_aliases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"))
    alias_key: Mapped[str] = mapped_column(String(255))  # the written name, normalized
    alias: Mapped[str] = mapped_column(String(255))  # as it was read
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))

    __table_args__ = (UniqueConstraint("buyer_id", "alias_key"),)


class Document(Base):
    """A document the gateway made for an object (a letter, an order sheet), kept as sent."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    __table_args__ = (Index("ix_documents_object", "object_type", "object_id"),)


class CredentialFailure(Base):
    """One wrong temporary ID or password; enough of them in an hour lock the sender or the ID."""

    __tablename__ = "credential_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    sender: Mapped[str | None] = mapped_column(String(998), index=True)
    id_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    invitation_id: Mapped[int | None] = mapped_column(Integer)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))


class OutboundMessage(Base):
    """The outbox: written in the transaction that causes it, sent afterwards by an actor."""

    __tablename__ = "outbound_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # which template: invitation, rejection_notice, ...
    channel: Mapped[str] = mapped_column(String(16), default="mail")
    envelope_from: Mapped[str] = mapped_column(String(998))
    to_addr: Mapped[str] = mapped_column(String(998), index=True)  # per-address rate limit
    subject: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(998))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    text: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    status: Mapped[str] = mapped_column(String(16), default=OutboundStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text)
    cause_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))

    __table_args__ = (Index("ix_outbound_object", "object_type", "object_id"),)


class FaxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # handed to the transport; a mailed fax waits here for the service's report
    SENT = "sent"
    FAILED = "failed"


class FaxJob(Base):
    """One fax transmission of one document, with its attempts; written in the transaction that causes it."""

    __tablename__ = "fax_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # which document: invitation_letter, order_sheet, ...
    number: Mapped[str] = mapped_column(String(32))  # E.164
    title: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    status: Mapped[str] = mapped_column(String(16), default=FaxStatus.QUEUED, index=True)
    failure: Mapped[str | None] = mapped_column(String(16))  # busy, no_answer, bad_number, other
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    transmission_ref: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_fax_object", "object_type", "object_id"),)


class Event(Base):
    """One entry of an object's timeline: a message in or out, a transition, a refusal."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # inbound, outbound, delivered, transition, refused, review
    summary: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(300))  # who did it: "operator:sato", "token:erp"; None: Torii
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    fax_job_id: Mapped[int | None] = mapped_column(ForeignKey("fax_jobs.id"))

    __table_args__ = (Index("ix_events_object", "object_type", "object_id", "id"),)


class Operator(Base):
    """A person who uses the console; ``role`` is viewer, operator or admin (``workflows.access.ROLES``).

    A buyer's user (manual 004) is an operator confined to its buyer, with an email address (unique across
    users; it logs in with it) and a person's name; invited by mail, it has no password until it accepts.
    """

    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(16))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))  # confined to this buyer's objects
    issuer: Mapped[str | None] = mapped_column(String(255))  # confined to this issuer's invitations
    language: Mapped[str] = mapped_column(String(8), default="ja")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # in a row; reset by a good login
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    password_changed_at: Mapped[datetime] = mapped_column(default=clock.now)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # lower case; None: a CLI-made operator
    full_name: Mapped[str] = mapped_column(String(255), default="")  # the person's name, as documents print it
    invite_pending: Mapped[bool] = mapped_column(Boolean, default=False)  # invited, not accepted: cannot log in


class OperatorSession(Base):
    """A console login; the cookie carries a random token, only its SHA-256 is kept here."""

    __tablename__ = "operator_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    csrf_token: Mapped[str] = mapped_column(String(64))
    peer: Mapped[str | None] = mapped_column(String(255))


class ApiToken(Base):
    """A platform's credential for the API; shown once when made, only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart in lists
    scope: Mapped[str] = mapped_column(String(16))  # read, write or admin (``workflows.access.SCOPES``)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
    issuer: Mapped[str | None] = mapped_column(String(255))
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
