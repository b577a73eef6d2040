"""Registrations and companies over HTTP (manual 001): start one for the platform, follow it, search
companies, and add account IDs to a company.

    POST /api/registrations                {"applicant_email", "company_name", "language"} → 201, with the link
    GET  /api/registrations[?state=]       GET /api/registrations/{id} (with its timeline)
    GET  /api/companies?q=                 by name, legal form and width aside
    GET  /api/companies/{id}               with its account IDs
    POST /api/companies/{id}/accounts      {"name", "email"} → 201: the account ID and its password link; 409 past 999
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, iso, session_dependency, timeline_json
from gateway.auth import Forbidden
from workflows import registration
from workflows.access import get_visible, visible
from workflows.errors import TransitionRefused
from workflows.registration import Company, CompanyAccount, Registration
from workflows.registration.issuing import TooManyAccounts, add_account, search_companies

if TYPE_CHECKING:
    from gateway.runtime import Runtime


class RegistrationIn(BaseModel):
    applicant_email: str
    company_name: str
    language: str = "ja"


class AccountIn(BaseModel):
    name: str
    email: str


def registration_json(session: Session, reg: Registration, *, with_timeline: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": reg.id, "reference": f"REG-{reg.id}", "state": reg.state, "channel": reg.channel,
        "language": reg.language, "applicant_email": reg.applicant_email, "company_name": reg.company_name,
        "jan_maker_code": reg.jan_maker_code,
        "company": {"address": reg.company_address, "phone": reg.company_phone},
        "wholesaler": {"company": reg.wholesaler_company, "department": reg.wholesaler_department,
                       "contact": reg.wholesaler_contact, "email": reg.wholesaler_email},
        "admin": {"name": reg.admin_name, "email": reg.admin_email},
        "link_expires_at": iso(reg.link_expires_at), "applied_at": iso(reg.applied_at),
        "approval_due_at": iso(reg.approval_due_at), "reason": reg.reason, "company_id": reg.company_id,
        "created_at": iso(reg.created_at),
    }
    if with_timeline:
        data["timeline"] = timeline_json(session, registration.OBJECT_TYPE, reg.id)
    return data


def company_json(session: Session, company: Company, *, with_accounts: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": company.id, "company_id": company.code, "name": company.name,
                            "address": company.address, "jan_maker_code": company.jan_maker_code,
                            "created_at": iso(company.created_at)}
    if with_accounts:
        data["accounts"] = [
            {"account_id": a.account_id, "name": a.name, "email": a.email, "role": a.role,
             "password_set": a.password_hash is not None}
            for a in session.scalars(select(CompanyAccount).where(CompanyAccount.company_id == company.id)
                                     .order_by(CompanyAccount.number))]
    return data


def registrations_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["registration"])
    session_dep = session_dependency(runtime)

    @router.post("/api/registrations", status_code=201)
    def start_registration(body: RegistrationIn, me: Me) -> dict[str, Any]:
        if me.scoped:
            raise Forbidden(f"{me.actor} is confined to a buyer or issuer; registrations are not")
        with runtime.db.transaction() as session:
            started = registration.start(session, runtime.settings, applicant_email=body.applicant_email,
                                         company_name=body.company_name, channel="api", language=body.language)
            return {**registration_json(session, started.registration), "application_link": started.link}

    @router.get("/api/registrations")
    def list_registrations(me: Me, state: str | None = None, session: Session = Depends(session_dep)
                           ) -> list[dict[str, Any]]:
        query = visible(select(Registration).order_by(Registration.id.desc()).limit(LIST_LIMIT), Registration, me)
        if state:
            query = query.where(Registration.state == state)
        return [registration_json(session, r, with_timeline=False) for r in session.scalars(query)]

    @router.get("/api/registrations/{registration_id}")
    def get_registration(registration_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        reg = get_visible(session, Registration, registration_id, "registration", me)
        return registration_json(session, reg)

    @router.get("/api/companies")
    def find_companies(me: Me, q: str = "", session: Session = Depends(session_dep)) -> list[dict[str, Any]]:
        if me.scoped:  # companies belong to no buyer or issuer
            return []
        return [company_json(session, c) for c in search_companies(session, q)]

    @router.get("/api/companies/{company_id}")
    def get_company(company_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        company = get_visible(session, Company, company_id, "company", me)
        return company_json(session, company, with_accounts=True)

    @router.post("/api/companies/{company_id}/accounts", status_code=201)
    def add_company_account(company_id: int, body: AccountIn, me: Me) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            company = get_visible(session, Company, company_id, "company", me, lock=True)
            try:
                account, link = add_account(session, runtime.settings, company, body.name, body.email)
            except TooManyAccounts as exc:
                raise TransitionRefused("company", "full", "add account", str(exc)) from exc
            return {"account_id": account.account_id, "name": account.name, "email": account.email,
                    "password_link": link}

    return router
