"""Who may see and do what: access levels, the principal behind a request, and the rows it may see.

Operators have roles and API tokens have scopes; both come down to one :class:`Level`, so one rule
decides every route: reading needs ``READ``, changing anything ``WRITE``, accounts and the catalog
``ADMIN``. A principal may also be confined to one buyer (a restaurant's staff) or one issuer (the
company that sends invitations): :func:`visible` narrows a query to its rows and
:func:`get_visible` answers ``NotFound`` for the others, so another buyer's order looks exactly like
one that does not exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from workflows.errors import InvalidRequest, NotFound
from workflows.models import (
    Buyer,
    Document,
    Event,
    FaxJob,
    FaxOrder,
    InboundMessage,
    Invitation,
    Order,
    OutboundMessage,
    Supplier,
)

Row = TypeVar("Row")
Query = TypeVar("Query", bound=Select[Any])


class Level(enum.IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3


# An operator's role and a token's scope, by name, as the CLI and the console write them.
ROLES = {"viewer": Level.READ, "operator": Level.WRITE, "admin": Level.ADMIN}
SCOPES = {"read": Level.READ, "write": Level.WRITE, "admin": Level.ADMIN}


@dataclass(frozen=True)
class Principal:
    """The operator (by session) or API token behind a request."""

    actor: str  # as the timeline shows it: "operator:sato", "token:erp"
    level: Level
    buyer_id: int | None = None
    issuer: str | None = None
    operator_id: int | None = None
    csrf_token: str | None = None  # sessions only: forms and fetches must send it back

    @property
    def name(self) -> str:
        return self.actor.split(":", 1)[1]

    @property
    def scoped(self) -> bool:
        return self.buyer_id is not None or self.issuer is not None

    def may(self, level: Level) -> bool:
        return self.level >= level


def check_grant(session: Session, what: str, name: str, level_name: str, levels: dict[str, Level],
                buyer_id: int | None, issuer: str | None) -> str:
    """What an operator or a token is given, checked before it is made; the name, trimmed."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidRequest(f"{what}'s name is 1 to 64 characters")
    if level_name not in levels:
        raise InvalidRequest(f"{'role' if levels is ROLES else 'scope'} must be one of {', '.join(levels)}")
    if buyer_id is not None and issuer is not None:
        raise InvalidRequest(f"{what} is confined to a buyer or to an issuer, not both")
    if buyer_id is not None and session.get(Buyer, buyer_id) is None:
        raise InvalidRequest(f"buyer {buyer_id} does not exist")
    return name


def _objects_clause(model: Any, principal: Principal) -> Any:
    """Rows about an object (object_type, object_id) the principal may see."""
    ors = []
    if principal.buyer_id is not None:
        ors.append(and_(model.object_type == "order",
                        model.object_id.in_(select(Order.id).where(Order.buyer_id == principal.buyer_id))))
        ors.append(and_(model.object_type == "fax_order",
                        model.object_id.in_(select(FaxOrder.id).where(FaxOrder.buyer_id == principal.buyer_id))))
    if principal.issuer is not None:
        ors.append(and_(model.object_type == "invitation",
                        model.object_id.in_(select(Invitation.id)
                                            .where(Invitation.issuer_company == principal.issuer))))
    return or_(*ors) if ors else false()


def _clause(model: Any, principal: Principal) -> Any:
    buyer, issuer = principal.buyer_id, principal.issuer
    if model is Invitation:
        return Invitation.issuer_company == issuer if issuer is not None else false()
    if model in (Order, FaxOrder):
        return model.buyer_id == buyer if buyer is not None else false()
    if model is Buyer:
        return Buyer.id == buyer if buyer is not None else false()
    if model is Supplier:
        return Supplier.buyer_id == buyer if buyer is not None else false()
    if model in (InboundMessage, OutboundMessage, FaxJob, Event, Document):
        return _objects_clause(model, principal)
    # Anything else (locks, accounts, the catalog's rows) is for principals with no confinement.
    return false()


def visible(query: Query, model: Any, principal: Principal) -> Query:
    """The query, narrowed to the rows of ``model`` the principal may see."""
    if not principal.scoped:
        return query
    return query.where(_clause(model, principal))


def may_see(session: Session, model: Any, row_id: Any, principal: Principal) -> bool:
    if not principal.scoped:
        return True
    key = model.__mapper__.primary_key[0]
    return session.scalar(select(key).where(key == row_id, _clause(model, principal))) is not None


def get_visible(session: Session, model: type[Row], row_id: Any, what: str, principal: Principal, *,
                lock: bool = False) -> Row:
    """The row, or ``NotFound``: for one that does not exist and for one the principal may not see alike."""
    row = session.get(model, row_id, with_for_update=lock)
    if row is None or not may_see(session, model, row_id, principal):
        raise NotFound(f"{what} {row_id} does not exist")
    return row


def may_see_object(session: Session, object_type: str | None, object_id: int | None, principal: Principal) -> bool:
    """Whether the principal may see the object a message, fax or event is about."""
    if not principal.scoped:
        return True
    model = {"invitation": Invitation, "order": Order, "fax_order": FaxOrder}.get(object_type or "")
    return model is not None and object_id is not None and may_see(session, model, object_id, principal)
