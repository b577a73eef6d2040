"""The mails a buyer's user gets (ja or en, the user's language): invitations, change confirmations, resets.

Every one is on the user's timeline (object ``user``) and goes through the outbox like any other mail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflows import clock
from workflows.config import Settings
from workflows.mail import queue_mail
from workflows.models import Buyer, Operator

OBJECT_TYPE = "user"


def jst(moment: Any) -> str:
    return moment.astimezone(clock.TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


def queue_user_mail(session: Session, settings: Settings, user: Operator, kind: str, to_addr: str,
                    **context: Any) -> None:
    buyer = session.get(Buyer, user.buyer_id) if user.buyer_id is not None else None
    queue_mail(session, object_type=OBJECT_TYPE, object_id=user.id, kind=kind, language=user.language,
               context={"user": user, "buyer_name": buyer.name if buyer else "",
                        "login_url": f"{settings.public_url}/login", **context},
               to_addr=to_addr, to_name=user.full_name, from_addr=settings.from_address, from_name="Torii",
               domain=settings.mail_domain, hourly_limit=settings.mail_hourly_limit)
