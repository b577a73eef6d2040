"""The console's page for a company ID application faxed on our form: the operator confirms its fields.

    GET  /messages/{id}/application    each field's crop beside what the reader proposed, editable
    POST /messages/{id}/application    confirm: the registration starts and is applied (channel "fax");
                                       ``tell_applicant=yes`` after a refusal mails the applicant the problems;
                                       ``fax_reply=yes``: no address on the form, the applicant is told by fax

A refusal by the checks (JAN maker code, free mail, ...) keeps nothing and shows the page again with
the reasons and the fields as the operator wrote them. The session's CSRF token guards the form.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from gateway.api.shared import Me, session_dependency
from gateway.console.pages import render
from parsers.registration_form import FIELDS
from workflows.access import Level, get_visible
from workflows.errors import InvalidRequest, NotFound
from workflows.models import InboundMessage
from workflows.registration import application_fax
from workflows.registration.application_form import CONSENT_FIELD, FAX_FIELD
from workflows.registration.applying import ApplicationRefused

if TYPE_CHECKING:
    from gateway.runtime import Runtime

LABELS = {**{f.key: (f.label_ja, f.label_en) for f in FIELDS}, FAX_FIELD: ("FAX番号", "Fax number"),
          CONSENT_FIELD: ("利用規約への同意", "Consent to the terms")}


def _data_uri(png: bytes | None) -> str | None:
    return f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" if png else None


def applications_console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)
    settings = runtime.settings

    def page(request: Request, session: Session, row: InboundMessage, me: Any, *, values: dict[str, str] | None = None,
             problems: list[tuple[str, str]] | None = None, error: str | None = None, status_code: int = 200
             ) -> Response:
        proposed = application_fax.proposals_of(row)
        if proposed is None:
            raise NotFound(f"message {row.id} is no application form")
        crops = application_fax.crops_of(session, row)
        fields = []
        for key in application_fax.KEYS:
            found = proposed["fields"].get(key) or {}
            fields.append({"key": key, "label": LABELS[key], "proposed": found.get("value") or "",
                           "value": (values or {}).get(key, found.get("value") or ""),
                           "confidence": found.get("confidence") or 0.0, "reason": found.get("reason"),
                           "crop": _data_uri(crops.get(found.get("crop") or 0))})
        return render(request, "application_review.html", {
            "row": row, "fields": fields, "page_image": _data_uri(crops.get(proposed.get("page") or 0)),
            "reasons": proposed.get("reasons") or [], "problems": problems or [], "error": error,
            "may_decide": me.may(Level.WRITE) and row.status == "review", "language": (values or {}).get(
                "language", proposed.get("language") or "ja")}, status_code=status_code)

    @router.get("/messages/{inbound_id}/application")
    def application_page(inbound_id: int, request: Request, me: Me, session: Session = Depends(session_dep)
                         ) -> Response:
        return page(request, session, get_visible(session, InboundMessage, inbound_id, "message", me), me)

    @router.post("/messages/{inbound_id}/application")
    async def confirm(inbound_id: int, request: Request, me: Me) -> Response:
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in application_fax.KEYS}
        values[CONSENT_FIELD] = "yes" if form.get(CONSENT_FIELD) == "yes" else ""
        values["language"] = "en" if form.get("language") == "en" else "ja"
        tell = form.get("tell_applicant") == "yes"
        try:
            with runtime.db.transaction() as session:
                row = get_visible(session, InboundMessage, inbound_id, "message", me, lock=True)
                if form.get("fax_reply") == "yes":  # no address to answer: a letter to the form's fax number
                    application_fax.fax_back_no_address(session, settings, row, values[FAX_FIELD],
                                                        company_name=values["company_name"],
                                                        language=values["language"])
                    target = f"/messages/{inbound_id}"
                else:
                    registration = application_fax.confirm(session, settings, row, values, tell_applicant=tell,
                                                           language=values["language"])
                    target = f"/registrations/{registration.id}"
        except (ApplicationRefused, InvalidRequest) as exc:
            with runtime.db.sessions() as session:
                row = get_visible(session, InboundMessage, inbound_id, "message", me)
                if isinstance(exc, ApplicationRefused):
                    return page(request, session, row, me, values=values, problems=exc.problems, status_code=422)
                return page(request, session, row, me, values=values, error=str(exc), status_code=422)
        return RedirectResponse(target, status_code=303)

    return router
