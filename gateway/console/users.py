"""The console's buyers' users (manual 004): who they are, inviting one, sending an invitation again,
changing a name or an address (each confirmed by mail, as through the API).

    GET  /users                    the users of the buyers the operator may see, with their status
    POST /users/invite             email, name, role, language (and the buyer, for an unconfined admin)
    POST /users/{id}/resend        a new 48-hour link; the one before stops working
    POST /users/{id}               a new name and/or address (the user itself, or an admin)

A confined operator sees its own buyer's users; inviting and sending again take an admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import Me, session_dependency
from gateway.api.users import get_user
from gateway.auth import Forbidden, requires
from gateway.console.pages import render
from workflows import users
from workflows.access import Level, Principal, get_visible, visible
from workflows.errors import Conflict, InvalidRequest
from workflows.models import Buyer, Operator

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def users_console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)
    settings = runtime.settings

    def page(request: Request, session: Session, me: Principal, *, error: str | None = None,
             form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
        buyers = list(session.scalars(visible(select(Buyer), Buyer, me).order_by(Buyer.name)))
        rows = [(buyer, [users.user_json(session, u) for u in users.users_of(session, buyer.id)]) for buyer in buyers]
        return render(request, "users.html", {"groups": rows, "buyers": buyers, "error": error, "form": form or {},
                                              "done": request.query_params.get("done", "")},
                      status_code=status_code)

    @router.get("/users")
    def users_page(request: Request, me: Me, session: Session = Depends(session_dep)) -> Response:
        return page(request, session, me)

    @router.post("/users/invite")
    @requires(Level.ADMIN)
    def invite(request: Request, me: Me, buyer_id: int = Form(...), email: str = Form(""), name: str = Form(""),
               role: str = Form("operator"), language: str = Form("ja")) -> Response:
        body = {"email": email, "name": name, "role": role, "language": language}
        try:
            with runtime.db.transaction() as session:
                buyer = get_visible(session, Buyer, buyer_id, "buyer", me, lock=True)
                users.invite(session, settings, buyer, body)
        except (Conflict, InvalidRequest) as exc:
            with runtime.db.sessions() as session:
                return page(request, session, me, error=str(exc), form=body | {"buyer_id": buyer_id},
                            status_code=409 if isinstance(exc, Conflict) else 422)
        return RedirectResponse("/users?done=invited", status_code=303)

    @router.post("/users/{user_id}/resend")
    @requires(Level.ADMIN)
    def resend(request: Request, user_id: int, me: Me) -> Response:
        try:
            with runtime.db.transaction() as session:
                users.resend(session, settings, get_user(session, user_id, me, lock=True))
        except InvalidRequest as exc:
            with runtime.db.sessions() as session:
                return page(request, session, me, error=str(exc), status_code=422)
        return RedirectResponse("/users?done=resent", status_code=303)

    @router.post("/users/{user_id}")
    def change(request: Request, user_id: int, me: Me, name: str = Form(""), email: str = Form("")) -> Response:
        try:
            with runtime.db.transaction() as session:
                user: Operator = get_user(session, user_id, me, lock=True)
                if user.id != me.operator_id and not me.may(Level.ADMIN):
                    raise Forbidden(f"{me.actor} may change only its own name and address")
                users.change(session, settings, user, {"name": name.strip() or None, "email": email.strip() or None})
        except (Conflict, InvalidRequest) as exc:
            with runtime.db.sessions() as session:
                return page(request, session, me, error=str(exc),
                            status_code=409 if isinstance(exc, Conflict) else 422)
        return RedirectResponse("/users?done=changed", status_code=303)

    return router
