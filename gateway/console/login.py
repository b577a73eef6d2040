"""Logging in and out, and changing one's password.

    GET  /login                the form (public); ``next``: where to go once in
    POST /login                name and password (public, with the login form's own CSRF token)
    POST /logout               ends this session
    GET  /account              who I am, and the password form
    POST /account/password     current and new password; every other session of mine ends

The login form has no session to bind a CSRF token to yet, so it carries a double-submit token
(``gateway.public_forms``) in a cookie only /login sees.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from gateway.auth import SESSION_COOKIE, current_principal, public, requires
from gateway.console.pages import render
from gateway.public_forms import form_cookie, form_token_ok, new_form_token, set_form_cookie
from workflows import accounts
from workflows.access import Level, Principal
from workflows.errors import InvalidRequest, NotFound
from workflows.models import Operator

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (``//evil``, ``https://...``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def login_page(request: Request, *, status_code: int = 200, error: str | None = None,
               next_path: str | None = None) -> Response:
    token = new_form_token()
    target = safe_next(next_path if next_path is not None else
                       (request.url.path + (f"?{request.url.query}" if request.url.query else "")
                        if request.url.path != "/login" else request.query_params.get("next")))
    response = render(request, "login.html", {"login_csrf": token, "next": target, "error": error},
                      status_code=status_code)
    set_form_cookie(request, response, token, "/login")
    return response


def login_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    settings = runtime.settings

    def secure(request: Request) -> bool:
        return settings.cookie_secure == "1" or (settings.cookie_secure == "auto" and request.url.scheme == "https")

    @router.get("/login")
    @public
    def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post("/login")
    @public
    def login(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
              next: str = Form("/")) -> Response:
        if not form_token_ok(request, csrf_token, "/login"):
            return login_page(request, status_code=403, next_path=next,
                              error="フォームの有効期限が切れました。もう一度お試しください。 / "
                                    "The form expired; please try again.")
        with runtime.db.transaction() as session:
            try:
                operator = accounts.authenticate(session, settings, name, password)
            except accounts.LoginRefused as refused:
                # Committed with the failure count; the page does not say which part was wrong.
                log.warning("login refused from %s: %s", request.client.host if request.client else "?",
                            refused.reason)
                operator = None
            opened = accounts.open_session(session, operator, request.client.host if request.client else None
                                           ) if operator else None
        if opened is None:
            return login_page(request, status_code=401, next_path=next,
                              error="名前またはパスワードが違います（続けて間違えると一時的にロックされます）。 / "
                                    "Wrong name or password (repeated failures lock the account for a while).")
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, opened.token, httponly=True, samesite="lax", secure=secure(request),
                            max_age=int(settings.session_max_hours * 3600), path="/")
        response.delete_cookie(form_cookie("/login"), path="/login")
        return response

    @router.post("/logout")
    @requires(Level.READ)  # anyone may leave
    def logout(request: Request) -> Response:
        with runtime.db.transaction() as session:
            accounts.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/account")
    def account(request: Request, me: Principal = Depends(current_principal)) -> Response:
        return render(request, "account.html", {"message": None, "error": None})

    @router.post("/account/password")
    def change_password(request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                        me: Principal = Depends(current_principal)) -> Response:
        error = None
        if me.operator_id is None:
            raise NotFound("only operators have passwords")
        if new != confirm:
            error = "確認用のパスワードが一致しません。 / The two new passwords differ."
        else:
            try:
                with runtime.db.transaction() as session:
                    operator = session.get(Operator, me.operator_id)
                    assert operator is not None
                    accounts.change_password(session, operator, current, new,
                                             keep_token=request.cookies.get(SESSION_COOKIE, ""))
            except InvalidRequest as refused:
                error = str(refused)
        return render(request, "account.html", {
            "error": error, "message": None if error else "パスワードを変更しました。 / Password changed."},
            status_code=422 if error else 200)

    return router
