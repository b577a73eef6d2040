"""Faxes arriving as mail: transmission reports, returned fax-back forms and order sheets, fax orders.

A fax service reports on the faxes we sent; partners fax back the forms we sent them (the
page's code names the object, its ticked box is the answer); buyers fax orders to the order
fax number. The pages were read before the writing transaction: here they are matched and applied.
The page images stay with the object, for whoever reviews or checks the reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.fax_report import read_transmission_report
from workflows import fax_order as fax_orders
from workflows.fax_answers import FaxAnswer, PageReading
from workflows.fax_order.pages import FaxPages
from workflows.faxes import finish_attempt
from workflows.inbound.answers import applied
from workflows.inbound.correlation import tokens_of
from workflows.inbound.step import Correlation, Outcome, Step, outcome_of, record_inbound
from workflows.models import Document, FaxJob, FaxStatus, InboundStatus, Invitation
from workflows.registration import Registration, application_fax
from workflows.registry import after_fax

if TYPE_CHECKING:  # the fax readers load OpenCV: only processes that read faxes import them
    from parsers.orderform import OrderFaxReading


def on_fax_report(step: Step) -> Outcome | None:
    """A fax service's transmission report for one of our jobs finishes that job's attempt."""
    if tokens_of(step):
        return None  # mail to a reply address is a partner's, whatever it quotes
    mail = step.mail
    report = read_transmission_report(mail.subject, mail.text, (*mail.in_reply_to, *mail.references))
    if report is None or report.job_id is None:
        return None
    job = step.session.get(FaxJob, report.job_id, with_for_update=True)
    if job is None or job.status != FaxStatus.SENDING:
        return None
    finish_attempt(step.session, job, ok=report.ok, failure=report.failure, detail=report.detail,
                   backoff=step.settings.fax_retry_backoff,
                   inbound_id=step.row.id)
    after_fax(step.session, step.settings, job)
    step.correlation = Correlation(job.object_type, job.object_id, "fax report")
    record_inbound(step)
    result = "sent" if report.ok else f"failed ({report.failure}), now {job.status}"
    return outcome_of(step, InboundStatus.PROCESSED, "fax_report", f"fax job {job.id} {result}: {report.detail}")


def on_faxback_form(step: Step, fax: FaxAnswer) -> Outcome:
    """A returned fax-back form: its code names the invitation, its ticked box is the answer.

    With code and reference both lost, the temporary ID read by OCR names it, if it is
    exactly one invitation's.
    """
    if fax.application is not None:
        return _on_application_form(step, fax)
    form = fax.form
    if form is None:
        return outcome_of(step, InboundStatus.REVIEW, "fax", "fax: " + ("; ".join(fax.problems) or "no pages"))
    if form.registration_id is not None:
        return _on_approval_sheet(step, fax, form)
    if form.invitation_id is not None:
        invitation = step.session.get(Invitation, form.invitation_id)
        if invitation is None:
            return outcome_of(step, InboundStatus.REVIEW, "fax",
                              f"fax: form of unknown invitation {form.invitation_id}")
        via = "fax-back form"
    else:
        invitation, problem = _invitation_by_temp_id(step.session, form.temp_id_lookups)
        if invitation is None:
            return outcome_of(step, InboundStatus.REVIEW, "fax", problem)
        via = "temporary ID (OCR)"
    step.correlation = Correlation("invitation", invitation.id, via)
    record_inbound(step)
    documents = [Document(object_type="invitation", object_id=invitation.id, kind="faxback_page",
                          filename=f"faxback-{step.row.id}.png", content_type="image/png", data=form.page_png)]
    if form.contact_image:
        documents.append(Document(object_type="invitation", object_id=invitation.id, kind="contact_field",
                                  filename=f"contact-{step.row.id}.png", content_type="image/png",
                                  data=form.contact_image))
    step.session.add_all(documents)
    step.session.flush()
    parse = {"fax": {"answer": form.answer, "confidence": form.confidence, "reasons": list(form.reasons),
                     "contact_text": form.contact_text, "documents": [d.id for d in documents],
                     "problems": list(fax.problems), "found_by": via}}
    return applied(step, "fax", "fax form", form.answer, form.confidence, form.reasons,
                   {"contact_person": form.contact_text}, parse, f"{form.answer} applied from the fax-back form")


def _on_approval_sheet(step: Step, fax: FaxAnswer, form: PageReading) -> Outcome:
    """A wholesaler's approval sheet faxed back: its code names the registration, the ticked box is the answer."""
    assert form.registration_id is not None
    if step.session.get(Registration, form.registration_id) is None:
        return outcome_of(step, InboundStatus.REVIEW, "fax",
                          f"fax: approval sheet of unknown registration {form.registration_id}")
    step.correlation = Correlation("registration", form.registration_id, "approval sheet")
    record_inbound(step)
    page = Document(object_type="registration", object_id=form.registration_id, kind="approval_sheet",
                    filename=f"approval-{step.row.id}.png", content_type="image/png", data=form.page_png)
    step.session.add(page)
    step.session.flush()
    parse = {"fax": {"answer": form.answer, "confidence": form.confidence, "reasons": list(form.reasons),
                     "contact_text": form.contact_text, "documents": [page.id], "problems": list(fax.problems),
                     "found_by": "approval sheet"}}
    return applied(step, "fax", "approval sheet", form.answer, form.confidence, form.reasons,
                   {"reason": form.contact_text or ""}, parse, f"{form.answer} applied from the approval sheet")


def _on_application_form(step: Step, fax: FaxAnswer) -> Outcome:
    """A company ID application faxed on our form: to review, with each field's proposal and crop.

    An email address read by OCR may be a stranger's: only an operator's confirmation starts the
    registration (``workflows.registration.application_fax.confirm``).
    """
    assert fax.application is not None
    parse = application_fax.take(step.session, step.row, fax.application, fax.application_png, fax.problems)
    return outcome_of(step, InboundStatus.REVIEW, application_fax.KIND, application_fax.REASON, parse)


def _invitation_by_temp_id(session: Session, lookups: Sequence[str]) -> tuple[Invitation | None, str]:
    """The one invitation whose temporary ID the OCR read on a fax page (as lookup keys), or why there is none."""
    found = list(session.scalars(select(Invitation).where(Invitation.temp_id_lookup.in_(lookups)))) if lookups else []
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, (f"fax: no code or reference readable on the page, and no invitation has the temporary ID "
                      f"read by OCR ({len(lookups)} reading(s))")
    return None, (f"fax: no code or reference readable on the page, and the temporary IDs read by OCR match "
                  f"{len(found)} invitations ({', '.join(str(i.id) for i in found)})")


def on_faxed_back_sheet(step: Step, reading: OrderFaxReading) -> Outcome:
    """A faxed-back order sheet: its code names the order, its ticked box and written quantities are the answer."""
    assert reading.order_id is not None
    step.correlation = Correlation("order", reading.order_id, "faxed-back order sheet")
    record_inbound(step)
    documents = [Document(object_type="order", object_id=reading.order_id, kind="faxback_page",
                          filename=f"faxback-{step.row.id}-{n}.png", content_type="image/png", data=png)
                 for n, png in enumerate(reading.page_pngs, start=1)]
    documents += [Document(object_type="order", object_id=reading.order_id, kind="faxback_field",
                           filename=f"{name.replace(':', '-')}-{step.row.id}.png", content_type="image/png", data=png)
                  for name, png in reading.field_pngs.items()]
    step.session.add_all(documents)
    step.session.flush()
    quantities = {str(position): str(quantity) for position, quantity in sorted(reading.quantities.items())}
    details: dict[str, object] = {"quantities": quantities,
                                  "delivery_date": reading.delivery_date.isoformat() if reading.delivery_date
                                  else None}
    parse = {"fax": {"answer": reading.answer, "confidence": reading.confidence, "reasons": list(reading.reasons),
                     "delivery_date_text": reading.delivery_date_text, "contact_text": reading.contact_text,
                     "pages": list(reading.pages), "documents": [d.id for d in documents]} | details}
    return applied(step, "fax", "order sheet", reading.answer, reading.confidence, reading.reasons, details, parse,
                   f"{reading.answer} applied from the faxed-back order sheet")


def on_fax_order(step: Step, pages: FaxPages) -> Outcome:
    """An order a buyer faxed to the order fax number: read, matched, placed or put to review."""
    taken = fax_orders.take(step.session, step.settings, step.row, pages)
    step.correlation = Correlation(fax_orders.OBJECT_TYPE if taken.fax_order_id else None, taken.fax_order_id,
                                   "fax order")
    record_inbound(step)
    return outcome_of(step, taken.status, "fax_order", taken.reason, taken.parse)
