"""The console's registrations (manual 001): every application, where it stands, and its timeline.

    GET /registrations           ?state= &q= (company, applicant) &page=
    GET /registrations/{id}      the application, the company it became, its timeline

Registrations belong to no buyer or issuer: a confined operator sees none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.api.shared import Me, session_dependency
from gateway.console.lists import one_of, page_number
from gateway.console.pages import paginate, render
from workflows import registration
from workflows.access import get_visible, visible
from workflows.registration import Company, Registration
from workflows.timeline import timeline

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def registrations_console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.get("/registrations")
    def registration_list(request: Request, me: Me, session: Session = Depends(session_dep), state: str = "",
                          q: str = "", page: str = "1") -> Response:
        states = registration.MACHINE.states
        state, q = one_of(state, states), q.strip()
        query = visible(select(Registration), Registration, me).order_by(Registration.id.desc())
        if state:
            query = query.where(Registration.state == state)
        if q:
            like = f"%{q}%"
            query = query.where(or_(Registration.company_name.ilike(like), Registration.applicant_email.ilike(like)))
        filters = {k: v for k, v in {"state": state, "q": q}.items() if v}
        return render(request, "registrations.html", {"page": paginate(session, query, page_number(page)),
                                                      "states": states, "form": {"state": state, "q": q},
                                                      "filters": filters})

    @router.get("/registrations/{registration_id}")
    def registration_page(registration_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                          ) -> Response:
        reg = get_visible(session, Registration, registration_id, "registration", me)
        company = session.get(Company, reg.company_id) if reg.company_id else None
        return render(request, "registration.html", {
            "reg": reg, "company": company, "events": timeline(session, registration.OBJECT_TYPE, reg.id)})

    return router
