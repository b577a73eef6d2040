"""The public pages behind the links mailed to buyers' users (manual 004); each form is CSRF-protected
(double-submit, ``gateway.public_forms``) and rate-limited per client address, like registration's.

    GET/POST /join/{token}             accept the invitation: name and password (48 hours, once)
    GET/POST /email/{token}            confirm the new email address (a GET changes nothing: mail
                                       scanners open links)
    GET/POST /forgot-password          ask for a reset link: the same answer for every address
    GET/POST /password-reset/{token}   set a new password (1 hour, once)

A link that does not work says why: expired (ask for a new one), used, replaced by a newer mail, unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gateway.auth import public
from gateway.console.pages import render
from gateway.public_forms import PublicForms
from workflows import users
from workflows.errors import Conflict, InvalidRequest
from workflows.models import Operator

if TYPE_CHECKING:
    from gateway.runtime import Runtime

REFUSED = {
    "expired": ("このリンクは有効期限が過ぎています。お手数ですが、送信元の方に再送を依頼してください"
                "（パスワードの再設定は、もう一度お申し込みください）。",
                "This link has expired. Please ask whoever sent it to send it again (for a password reset, "
                "ask for a new one)."),
    "used": ("このリンクはすでに使われています。", "This link has been used already."),
    "replaced": ("このリンクは新しいメールで置き換えられました。最新のメールのリンクをお使いください。",
                 "A newer mail has replaced this link: please use the link in the latest mail."),
    "unknown": ("このリンクは無効です。", "This link is not valid."),
}
STATUS = {"expired": 410, "used": 410, "replaced": 410, "unknown": 404}
DIFFERENT = ("確認用のパスワードが一致しません。", "The two passwords differ.")
RESET_ASKED = ("ご登録のアドレスであれば、パスワード再設定用のリンク（1時間有効）をお送りしました。",
               "If a user has this address, we have mailed it a link to set a new password (valid for 1 hour).")


def user_pages_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    settings = runtime.settings

    def message(request: Request, text: tuple[str, str], status_code: int = 200, *, login: bool = False
                ) -> Response:
        return render(request, "user_message.html", {"message": text, "login": login}, status_code=status_code)

    def refused(request: Request, exc: users.LinkRefused) -> Response:
        return message(request, REFUSED[exc.why], STATUS[exc.why], login=exc.why == "used")

    forms = PublicForms(settings, message)
    page, posted = forms.page, forms.posted

    def token_page(request: Request, token: str, lookup: Callable[[Session, str], Operator], template: str,
                   context: dict[str, Any], status_code: int = 200) -> Response:
        """The page of a user's link, or why the link no longer works; ``form`` defaults to the user's name."""
        with runtime.db.sessions() as session:
            try:
                user = lookup(session, token)
            except users.LinkRefused as exc:
                return refused(request, exc)
            context = {"form": {"name": user.full_name}, **context, "user": user}
            return page(request, template, context, status_code)

    def same_passwords(form: dict[str, str]) -> None:
        if form.get("password", "") != form.get("password_again", ""):
            raise InvalidRequest(DIFFERENT[1])

    @router.get("/join/{token}")
    @public
    def join_form(request: Request, token: str) -> Response:
        return token_page(request, token, users.pending_invite, "user_join.html", {})

    @router.post("/join/{token}")
    @public
    async def join(request: Request, token: str) -> Response:
        form = await posted(request, "join")
        if isinstance(form, Response):
            return form
        try:
            same_passwords(form)
            with runtime.db.transaction() as session:
                email = users.accept(session, token, form.get("name", ""), form.get("password", "")).email
        except users.LinkRefused as exc:
            return refused(request, exc)
        except InvalidRequest as exc:
            return token_page(request, token, users.pending_invite, "user_join.html",
                              {"form": form, "error": str(exc)}, 422)
        return message(request, (f"登録が完了しました。メールアドレス（{email}）とパスワードでログインしてください。",
                                 f"You are registered. Log in with your email address ({email}) and password."),
                       login=True)

    @router.get("/email/{token}")
    @public
    def email_form(request: Request, token: str) -> Response:
        with runtime.db.sessions() as session:
            try:
                user, new_email = users.pending_change(session, token)
            except users.LinkRefused as exc:
                return refused(request, exc)
            return page(request, "user_email.html", {"user": user, "new_email": new_email})

    @router.post("/email/{token}")
    @public
    async def email(request: Request, token: str) -> Response:
        form = await posted(request, "email")
        if isinstance(form, Response):
            return form
        try:
            with runtime.db.transaction() as session:
                address = users.confirm_email(session, token).email
        except users.LinkRefused as exc:
            return refused(request, exc)
        except Conflict:
            return message(request, ("このメールアドレスは、すでに別のユーザーが使っています。",
                                     "Another user has this email address already."), 409)
        return message(request, (f"メールアドレスを {address} に変更しました。"
                                 "次回からこのアドレスでログインしてください。",
                                 f"Your email address is now {address}; log in with it from now on."),
                       login=True)

    @router.get("/forgot-password")
    @public
    def reset_request_form(request: Request) -> Response:
        return page(request, "user_reset_request.html", {})

    @router.post("/forgot-password")
    @public
    async def reset_request(request: Request) -> Response:
        form = await posted(request, "reset")
        if isinstance(form, Response):
            return form
        with runtime.db.transaction() as session:
            users.request_reset(session, settings, form.get("email", ""))
        return message(request, RESET_ASKED)

    @router.get("/password-reset/{token}")
    @public
    def reset_form(request: Request, token: str) -> Response:
        return token_page(request, token, users.reset_user, "user_reset.html", {})

    @router.post("/password-reset/{token}")
    @public
    async def reset(request: Request, token: str) -> Response:
        form = await posted(request, "reset-set")
        if isinstance(form, Response):
            return form
        try:
            same_passwords(form)
            with runtime.db.transaction() as session:
                users.reset_password(session, token, form.get("password", ""))
        except users.LinkRefused as exc:
            return refused(request, exc)
        except InvalidRequest as exc:
            return token_page(request, token, users.reset_user, "user_reset.html", {"error": str(exc)}, 422)
        return message(request, ("パスワードを設定しました。ログインしてください。",
                                 "Your new password is set; please log in."), login=True)

    return router
