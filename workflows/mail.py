"""Outbound mail: render a template, build the MIME message, put it in the outbox.

A workflow never sends. It calls ``queue_mail`` inside its transaction; the row
is the promise, and a delivery actor keeps it after the commit. Every mail we
write is automatic, so it says so (``Auto-Submitted``), and it carries a
Message-ID we record, so replies and bounces find their way back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.models import OutboundMessage
from workflows.timeline import record

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_mail(kind: str, language: str, context: dict[str, Any]) -> RenderedMail:
    """Render ``templates/mail/<kind>.<language>.txt`` and ``.html``.

    The text template's first line is ``Subject: ...``; the subject is folded to one
    line so that no value in it can inject a header.
    """
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    env = _environment()
    text = env.get_template(f"mail/{kind}.{language}.txt").render(context)
    html = env.get_template(f"mail/{kind}.{language}.html").render(context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"mail/{kind}.{language}.txt must start with a Subject: line")
    subject = re.sub(r"\s+", " ", first[len("Subject:"):]).strip()
    return RenderedMail(subject=subject, text=body.lstrip("\n"), html=html)


@dataclass(frozen=True)
class MailAttachment:
    filename: str  # ASCII: some mail clients still garble encoded file names
    content_type: str
    data: bytes


def new_message_id(domain: str) -> str:
    return f"{uuid.uuid4().hex}@{domain}"


def build_mime(
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    to_name: str,
    reply_to: str | None,
    message_id: str,
    rendered: RenderedMail,
    in_reply_to: str | None = None,
    attachments: Sequence[MailAttachment] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = Address(display_name=from_name, addr_spec=from_addr)
    msg["To"] = Address(display_name=to_name, addr_spec=to_addr)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = f"<{message_id}>"
    if reply_to:
        msg["Reply-To"] = reply_to
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    # RFC 3834: marks the mail as automatic so well-behaved responders do not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    # 7-bit bodies: a relay that downgrades 8-bit mail to quoted-printable would break the DKIM signature.
    msg.set_content(rendered.text, charset="utf-8", cte="base64")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    # CRLF, as on the wire: smtplib sends bytes as they are, and a relay reads lines by CRLF.
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def queue_mail(
    session: Session,
    *,
    object_type: str,
    object_id: int,
    kind: str,
    language: str,
    context: dict[str, Any],
    to_addr: str,
    to_name: str,
    from_addr: str,
    from_name: str,
    domain: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    cause_inbound_id: int | None = None,
    hourly_limit: int | None = None,
    attachments: Sequence[MailAttachment] = (),
    template: str | None = None,
) -> OutboundMessage | None:
    """Write one outbound mail to the outbox, with its timeline entry, in the caller's transaction.

    No address gets more than ``hourly_limit`` automatic mails an hour, whatever loop a
    misbehaving auto-responder builds with us; a mail over the limit is recorded, not sent.
    """
    if hourly_limit is not None:
        since = clock.now() - timedelta(hours=1)
        recent = session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.to_addr == to_addr, OutboundMessage.created_at >= since)) or 0
        if recent >= hourly_limit:
            record(session, object_type, object_id, "suppressed",
                   f"{kind} mail to {to_addr} not sent: {recent} automatic mails to it within an hour",
                   inbound_id=cause_inbound_id)
            return None
    rendered = render_mail(template or kind, language, context)
    message_id = new_message_id(domain)
    raw = build_mime(
        from_addr=from_addr,
        from_name=from_name,
        to_addr=to_addr,
        to_name=to_name,
        reply_to=reply_to,
        message_id=message_id,
        rendered=rendered,
        in_reply_to=in_reply_to,
        attachments=attachments,
    )
    outbound = OutboundMessage(
        object_type=object_type,
        object_id=object_id,
        kind=kind,
        channel="mail",
        # VERP-style: a bounce to this address names the message it answers.
        envelope_from=f"bounce+{message_id.split('@')[0]}@{domain}",
        to_addr=to_addr,
        subject=rendered.subject,
        reply_to=reply_to,
        message_id=message_id,
        text=rendered.text,
        raw=raw,
        cause_inbound_id=cause_inbound_id,
    )
    session.add(outbound)
    session.flush()
    record(
        session,
        object_type,
        object_id,
        "outbound",
        f"{kind} mail queued to {to_addr}",
        outbound_id=outbound.id,
        inbound_id=cause_inbound_id,
        subject=rendered.subject,
        message_id=message_id,
    )
    return outbound
