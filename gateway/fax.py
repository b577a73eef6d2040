"""Fax out: the transports that hand a fax job over (numbers are ``parsers.fax_numbers``'s, reports
``parsers.fax_report``'s, retries ``workflows.faxes``').

A fax is a job with states ``queued → sending → sent | failed``. A busy line or
no answer is retried with backoff; a bad number fails at once. Two transports:

- ``FaxSpoolTransport`` (default) puts the PDF and a job file in ``spool/fax/``,
  where an operator (or a fax modem daemon) picks them up;
- ``EmailToFaxTransport`` mails the PDF to ``<number>@<gateway domain>``, the
  common form of fax services, which later mail back a transmission report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from gateway.transports import Envelope, MailTransport
from parsers.fax_numbers import domestic_form
from workflows import clock
from workflows.errors import TemporaryDeliveryError


@dataclass(frozen=True)
class FaxJobRequest:
    job_id: int
    number: str  # E.164
    pdf: bytes
    title: str


class FaxTransport(Protocol):
    # True when the result comes later, in a transmission report mail from the fax service.
    reports_by_mail: bool

    def send(self, job: FaxJobRequest) -> str: ...  # returns the transmission's reference


class FaxSpoolTransport:
    reports_by_mail = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, job: FaxJobRequest) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = self.directory / f"fax-{job.job_id}"
            _write_atomically(stem.with_suffix(".pdf"), job.pdf)
            meta = {"job": job.job_id, "number": job.number, "dial": domestic_form(job.number),
                    "title": job.title, "queued_at": clock.now().isoformat(), "pages_pdf": stem.name + ".pdf"}
            _write_atomically(stem.with_suffix(".json"), json.dumps(meta, ensure_ascii=False).encode())
        except OSError as exc:
            raise TemporaryDeliveryError(f"fax spool write failed: {exc}") from exc
        return f"spool:{stem.name}"


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    with open(temp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)


class EmailToFaxTransport:
    """Mails the PDF to ``<domestic number>@<gateway domain>``; the service faxes it and reports back."""

    reports_by_mail = True

    def __init__(self, mail: MailTransport, gateway_domain: str, from_addr: str, domain: str) -> None:
        self.mail = mail
        self.gateway_domain = gateway_domain
        self.from_addr = from_addr
        self.domain = domain

    def message_id(self, job_id: int) -> str:
        return f"fax-{job_id}@{self.domain}"

    def send(self, job: FaxJobRequest) -> str:
        msg = EmailMessage()
        msg["From"] = self.from_addr
        msg["To"] = f"{domestic_form(job.number)}@{self.gateway_domain}"
        # The job number in the subject survives services that reply without In-Reply-To.
        msg["Subject"] = f"[FAX-{job.job_id}] {job.title}"
        msg["Date"] = format_datetime(clock.now())
        msg["Message-ID"] = f"<{self.message_id(job.job_id)}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(f"FAX job {job.job_id}")
        msg.add_attachment(job.pdf, maintype="application", subtype="pdf", filename=f"fax-{job.job_id}.pdf")
        raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
        self.mail.send(Envelope(self.from_addr, (str(msg["To"]),), raw, key=self.message_id(job.job_id)))
        return self.message_id(job.job_id)


