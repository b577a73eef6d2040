"""The public pages of registration (manual 001): anyone may open them; each form is CSRF-protected
(double-submit, ``gateway.public_forms``) and rate-limited per client address.

    GET/POST /register                       start: email (twice) and company name
    GET      /register/form.pdf              the blank application form to fax (?lang=en)
    GET/POST /register/{token}               the application, behind the 10-day link that works once
    GET/POST /register/approve/{token}       the wholesaler approves or rejects
    GET/POST /register/password/{token}      the ID administrator sets the password (one-time link)

An expired, used or unknown link answers a page that says so and leads back to the start.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.api.shared import binary_answer
from gateway.auth import public
from gateway.console.pages import render
from gateway.public_forms import PublicForms
from parsers.registration_form import FIELDS
from workflows import clock, registration
from workflows.errors import InvalidRequest, NotFound, TransitionRefused
from workflows.registration.application_form import render_application_form
from workflows.registration.applying import ApplicationRefused, by_approval_token, by_link, link_problem, terms
from workflows.registration.issuing import account_by_password_token, set_account_password

if TYPE_CHECKING:
    from gateway.runtime import Runtime

EXPIRED = ("このリンクは有効期限（10日間）が過ぎています。お手数ですが、もう一度お申し込みください。",
           "This link has expired (it is valid for 10 days). Please apply again.")
USED = ("このリンクはすでに使われています。", "This link has been used already.")
UNKNOWN = ("このリンクは無効です。", "This link is not valid.")


@lru_cache(maxsize=4)
def _blank_form(secret: bytes, language: str, fax_number: str | None, day: date) -> bytes:
    # Rendered once a day and language (~0.3-0.6 s): anyone may ask for it, as often as they like.
    return render_application_form(secret, language=language, fax_number=fax_number, issued_on=day)


def register_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    settings = runtime.settings

    def message(request: Request, text: tuple[str, str], status_code: int, start_over: bool = True) -> Response:
        return render(request, "register_message.html", {"message": text, "start_over": start_over},
                      status_code=status_code)

    forms = PublicForms(settings, lambda request, text, status: message(request, text, status, False), fields=FIELDS)
    page, posted = forms.page, forms.posted

    @router.get("/register")
    @public
    def start_form(request: Request) -> Response:
        return page(request, "register_start.html", {"form": {}})

    @router.post("/register")
    @public
    async def start(request: Request) -> Response:
        form = await posted(request, "register")
        if isinstance(form, Response):
            return form
        email, again = form.get("email", "").strip(), form.get("email_again", "").strip()
        if email.lower() != again.lower():
            return page(request, "register_start.html", {"form": form, "error": (
                "確認用のメールアドレスが一致しません。", "The two email addresses differ.")}, 422)
        try:
            with runtime.db.transaction() as session:
                started = registration.start(session, settings, applicant_email=email,
                                             company_name=form.get("company_name", ""), channel="web",
                                             language=form.get("language", "ja"))
                existing = started.link is None
        except InvalidRequest as exc:
            return page(request, "register_start.html", {"form": form, "error": (str(exc), str(exc))}, 422)
        text = (("この企業はすでに企業IDをお持ちです。貴社のID管理者のご案内をメールでお送りしました。",
                 "This company has a company ID already; we mailed you who its ID administrator is.") if existing else
                ("ご案内と申請用URL（10日間有効）をメールでお送りしました。", "We mailed you the terms and the "
                 "application link (valid for 10 days)."))
        return message(request, text, 200, start_over=False)

    @router.get("/register/form.pdf", **binary_answer("application/pdf"))
    @public
    def paper_form(lang: str = "ja") -> Response:
        """The blank application form, to print, fill in by hand and fax (before ``/register/{token}``)."""
        language = lang if lang in ("ja", "en") else "ja"
        pdf = _blank_form(settings.secret_key, language, settings.fax_number, clock.today())
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="company-id-application.{language}.pdf"',
            "Cache-Control": "public, max-age=3600"})

    @router.get("/register/{token}")
    @public
    def application_form(request: Request, token: str) -> Response:
        with runtime.db.sessions() as session:
            try:
                reg = by_link(session, token)
            except NotFound:
                return message(request, UNKNOWN, 404)
            problem = link_problem(reg)
            if problem:
                return message(request, EXPIRED if problem == "expired" else USED, 410)
            return page(request, "register_form.html", {"registration": reg, "form": {
                "company_name": reg.company_name}, "terms": terms(reg.language)})

    @router.post("/register/{token}")
    @public
    async def application(request: Request, token: str) -> Response:
        form = await posted(request, "apply")
        if isinstance(form, Response):
            return form
        if form.get("agree") != "yes":
            with runtime.db.sessions() as session:
                reg = by_link(session, token)
                return page(request, "register_form.html", {"registration": reg, "form": form,
                            "terms": terms(reg.language),
                            "problems": [("利用規約への同意が必要です", "you must agree to the terms")]}, 422)
        try:
            with runtime.db.transaction() as session:
                reg = by_link(session, token, lock=True)
                problem = link_problem(reg)
                if problem:
                    return message(request, EXPIRED if problem == "expired" else USED, 410)
                registration.apply(session, settings, reg, form)
        except NotFound:
            return message(request, UNKNOWN, 404)
        except ApplicationRefused as refused:
            with runtime.db.sessions() as session:
                reg = by_link(session, token)
                return page(request, "register_form.html", {"registration": reg, "form": form,
                            "terms": terms(reg.language), "problems": refused.problems}, 422)
        return message(request, ("申請を受け付けました。認証先卸のご担当者に承認をお願いしています。",
                                 "Your application is in; your wholesaler's contact has been asked to approve it."),
                       200, start_over=False)

    @router.get("/register/approve/{token}")
    @public
    def approval_form(request: Request, token: str) -> Response:
        with runtime.db.sessions() as session:
            try:
                reg = by_approval_token(session, token)
            except NotFound:
                return message(request, UNKNOWN, 404, start_over=False)
            return page(request, "register_approve.html", {"registration": reg})

    @router.post("/register/approve/{token}")
    @public
    async def approval(request: Request, token: str) -> Response:
        form = await posted(request, "approve")
        if isinstance(form, Response):
            return form
        decision = form.get("decision")
        if decision not in ("approve", "reject"):
            return message(request, ("承認か非承認を選んでください。", "Choose approve or reject."), 422, False)
        try:
            with runtime.db.transaction() as session:
                reg = by_approval_token(session, token, lock=True)
                registration.fire(session, settings, reg, decision, reason=form.get("reason", "").strip() or None)
        except NotFound:
            return message(request, UNKNOWN, 404, start_over=False)
        except TransitionRefused as refused:
            return message(request, (f"この申請にはすでに回答済みです（{refused.reason}）。",
                                     f"This application has been answered already ({refused.reason})."), 409, False)
        except InvalidRequest as exc:  # e.g. the company got its ID through another application meanwhile
            return message(request, (f"承認できませんでした：{exc}", f"Could not approve: {exc}"), 409, False)
        if decision == "approve":
            thanks = ("ご回答ありがとうございました。企業IDを発行しました。",
                      "Thank you for your answer. The company ID has been issued.")
        else:
            thanks = ("ご回答ありがとうございました。申請者にお知らせしました。",
                      "Thank you for your answer. The applicant has been told.")
        return message(request, thanks, 200, start_over=False)

    @router.get("/register/password/{token}")
    @public
    def password_form(request: Request, token: str) -> Response:
        with runtime.db.sessions() as session:
            try:
                account = account_by_password_token(session, token)
            except NotFound:
                return message(request, USED, 410, start_over=False)
            return page(request, "register_password.html", {"account": account})

    @router.post("/register/password/{token}")
    @public
    async def password(request: Request, token: str) -> Response:
        form = await posted(request, "password")
        if isinstance(form, Response):
            return form
        if form.get("password", "") != form.get("password_again", ""):
            return message(request, ("確認用のパスワードが一致しません。", "The two passwords differ."), 422, False)
        try:
            with runtime.db.transaction() as session:
                account = set_account_password(session, token, form.get("password", ""))
                account_id = account.account_id
        except NotFound:
            return message(request, USED, 410, start_over=False)
        except InvalidRequest as exc:
            return message(request, ("パスワードは12文字以上にしてください。", str(exc)), 422, False)
        return message(request, (f"パスワードを設定しました（アカウントID {account_id}）。",
                                 f"Your password is set (account ID {account_id})."), 200, start_over=False)

    return router
