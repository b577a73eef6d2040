"""An applicant's fax application in review, as the inbound pipeline leaves one, for the workflow's and the
console's tests; its reading is made without OCR, for speed."""

from __future__ import annotations

import io

from PIL import Image

from gateway import intake
from samples.demo import fax_delivery
from samples.make_application_fax import APPLICATION
from webapp import WebApp
from workflows.models import InboundMessage, InboundStatus
from workflows.registration import application_fax
from workflows.registration.application_form import form_reference


def in_review(web: WebApp, **written: str) -> int:
    """The id of an application fax in review, its fields proposed as ``written`` says (else APPLICATION)."""
    settings = web.runtime.settings
    raw = fax_delivery(b"%PDF-1.4", "app@fax.example.net", settings.mail_domain)
    inbound_id = intake.store(web.runtime.db, raw, channel="smtp", mail_from="fax-service@fax.example.net",
                              rcpt_tos=[f"fax@{settings.mail_domain}"]).id
    crop = io.BytesIO()
    Image.new("1", (80, 20), 1).save(crop, format="PNG")
    values = {**APPLICATION, **written}
    reading = application_fax.ApplicationReading(
        form_reference(settings.secret_key),
        {k: application_fax.Proposal(values[k], 0.6, None, crop.getvalue()) for k in application_fax.KEYS}, ())
    with web.runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        row.status, row.kind, row.reason = InboundStatus.REVIEW, application_fax.KIND, application_fax.REASON
        row.parse = application_fax.take(session, row, reading, crop.getvalue(), ())
    return inbound_id
