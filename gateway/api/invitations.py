"""Invitations over HTTP: issue one to a partner company, follow it, fetch its letter, record it posted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.shared import LIST_LIMIT, Me, binary_answer, document_response, iso, session_dependency, timeline_json
from workflows import invitation
from workflows.access import get_visible, visible
from workflows.config import Settings
from workflows.errors import InvalidRequest, NotFound
from workflows.models import Document, Invitation

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def invitation_json(session: Session, settings: Settings, inv: Invitation, *, with_timeline: bool = True
                    ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": inv.id,
        "state": inv.state,
        "channel": inv.channel,
        "approval_required": inv.approval_required,
        "language": inv.language,
        "issuer": {"company": inv.issuer_company, "name": inv.issuer_name, "email": inv.issuer_email},
        "partner": {"company": inv.partner_company, "name": inv.partner_name, "email": inv.partner_email},
        "comment": inv.comment,
        "contact_person": inv.contact_person,
        "fax_number": inv.fax_number,
        "redeemed_at": iso(inv.redeemed_at),
        "reply_to": invitation.reply_address(inv, settings),
        "created_at": iso(inv.created_at),
        "updated_at": iso(inv.updated_at),
    }
    if with_timeline:
        data["timeline"] = timeline_json(session, invitation.OBJECT_TYPE, inv.id)
    return data


def invitations_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    @router.post("/api/invitations", status_code=201)
    def create_invitation(me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        if me.scoped:
            issuer = body.get("issuer")
            if me.issuer is None or not isinstance(issuer, dict) or issuer.get("company") != me.issuer:
                raise InvalidRequest(f"{me.actor} may invite only as {me.issuer or 'an issuer'}")
        with runtime.db.transaction() as session:
            inv = invitation.create(session, runtime.settings, body)
            return invitation_json(session, runtime.settings, inv)

    @router.get("/api/invitations")
    def list_invitations(me: Me, state: str | None = None, session: Session = Depends(session_dep)
                         ) -> list[dict[str, Any]]:
        query = visible(select(Invitation).order_by(Invitation.id.desc()).limit(LIST_LIMIT), Invitation, me)
        if state:
            query = query.where(Invitation.state == state)
        return [invitation_json(session, runtime.settings, inv, with_timeline=False) for inv in session.scalars(query)]

    @router.get("/api/invitations/{invitation_id}")
    def get_invitation(invitation_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        inv = get_visible(session, Invitation, invitation_id, "invitation", me)
        return invitation_json(session, runtime.settings, inv)

    @router.get("/api/invitations/{invitation_id}/letter", **binary_answer("application/pdf"))
    def invitation_letter(invitation_id: int, me: Me, session: Session = Depends(session_dep)) -> Response:
        """The paper letter as sent (fax and postcard invitations)."""
        get_visible(session, Invitation, invitation_id, "invitation", me)
        document = session.scalars(
            select(Document).where(Document.object_type == invitation.OBJECT_TYPE,
                                   Document.object_id == invitation_id, Document.kind == "letter")
            .order_by(Document.id.desc()).limit(1)
        ).first()
        if document is None:
            raise NotFound(f"invitation {invitation_id} has no letter")
        return document_response(document)

    @router.post("/api/invitations/{invitation_id}/posted")
    def invitation_posted(invitation_id: int, me: Me) -> dict[str, Any]:
        """A postcard invitation was printed and posted: it counts as sent (issued → sent)."""
        with runtime.db.transaction() as session:
            inv = get_visible(session, Invitation, invitation_id, "invitation", me, lock=True)
            invitation.posted(session, runtime.settings, inv)
            return invitation_json(session, runtime.settings, inv)

    return router
