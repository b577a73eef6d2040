"""Buyers' users over HTTP (manual 004): invite by mail, send again, change name or address, import from CSV.

    GET   /api/buyers/{id}/users                the buyer's users, invited ones too (status)
    POST  /api/buyers/{id}/users                invite {email, name?, role?, language?} → 201; 409: address taken
    POST  /api/buyers/{id}/users/import         a CSV of users, each invited; 422 lists every bad row
    GET   /api/users/{id}
    PATCH /api/users/{id}                       {name?, email?}: confirmed by mail; 409: address taken
    POST  /api/users/{id}/resend-invite         a new 48-hour link; the old one stops working

Inviting and importing need an admin; a buyer's own admin (an operator confined to it) manages its users.
A user changes its own name and address; changing another's takes an admin. The mailed links' pages are
public (``gateway.user_pages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gateway.api.catalog import file_error, read_body
from gateway.api.shared import Me, session_dependency
from gateway.auth import Forbidden, requires
from workflows import users
from workflows.access import Level, Principal, get_visible, may_see
from workflows.catalog.csv_import import ImportResult
from workflows.catalog.csv_table import MAX_CSV_BYTES, CsvImportRefused, size_text
from workflows.errors import NotFound
from workflows.models import Buyer, Operator

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def get_user(session: Session, user_id: int, me: Principal, *, lock: bool = False) -> Operator:
    """A buyer's user the principal may see: of its buyer, or any for an unconfined principal."""
    user = session.get(Operator, user_id, with_for_update=lock or None)
    if user is None or user.buyer_id is None or user.email is None:
        raise NotFound(f"user {user_id} does not exist")
    if me.operator_id != user.id and not may_see(session, Buyer, user.buyer_id, me):
        raise NotFound(f"user {user_id} does not exist")
    return user


def users_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)
    settings = runtime.settings

    @router.get("/api/buyers/{buyer_id}/users")
    def list_users(buyer_id: int, me: Me, session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        get_visible(session, Buyer, buyer_id, "buyer", me)
        return [users.user_json(session, user) for user in users.users_of(session, buyer_id)]

    @router.post("/api/buyers/{buyer_id}/users", status_code=201)
    @requires(Level.ADMIN)
    def invite(buyer_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            buyer = get_visible(session, Buyer, buyer_id, "buyer", me, lock=True)
            return users.user_json(session, users.invite(session, settings, buyer, body))

    def run_import(buyer_id: int, data: bytes, me: Principal) -> ImportResult:
        with runtime.db.transaction() as session:
            get_visible(session, Buyer, buyer_id, "buyer", me)
            return users.import_users(session, settings, buyer_id, data)

    @router.post("/api/buyers/{buyer_id}/users/import")
    @requires(Level.ADMIN)
    async def import_users(buyer_id: int, request: Request, me: Me) -> Response:
        """The CSV file itself is the body (UTF-8 or CP932): 200 with the count invited, or 422 with every error."""
        data = await read_body(request, MAX_CSV_BYTES)
        if data is None:
            return file_error(413, f"the file is larger than {size_text(MAX_CSV_BYTES)}: split it")
        try:
            result = await run_in_threadpool(run_import, buyer_id, data, me)
        except CsvImportRefused as exc:
            return JSONResponse(exc.as_json(), status_code=422)
        return JSONResponse(result.as_json())

    @router.get("/api/users/{user_id}")
    def user(user_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        return users.user_json(session, get_user(session, user_id, me))

    @router.patch("/api/users/{user_id}")
    def change(user_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """``{name?, email?}``: a new name at once, a new address once it is confirmed through its mail."""
        with runtime.db.transaction() as session:
            user = get_user(session, user_id, me, lock=True)
            if user.id != me.operator_id and not me.may(Level.ADMIN):
                raise Forbidden(f"{me.actor} may change only its own name and address (an admin changes others')")
            users.change(session, settings, user, body)
            return users.user_json(session, user)

    @router.post("/api/users/{user_id}/resend-invite")
    @requires(Level.ADMIN)
    def resend(user_id: int, me: Me) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            user = get_user(session, user_id, me, lock=True)
            users.resend(session, settings, user)
            return users.user_json(session, user)

    return router
