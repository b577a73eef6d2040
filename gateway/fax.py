"""Fax out: numbers, transmission jobs, transports, and the reports fax services mail back.

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
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from gateway.errors import TemporaryDeliveryError
from gateway.transports import Envelope, MailTransport
from workflows import clock


class FaxFailure(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    BAD_NUMBER = "bad_number"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self in (FaxFailure.BUSY, FaxFailure.NO_ANSWER, FaxFailure.OTHER)


# Waits before the 2nd, 3rd and 4th attempt; after that the job fails for good.
RETRY_BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=45))


def next_attempt(attempts: int, failure: FaxFailure,
                 backoff: tuple[timedelta, ...] = RETRY_BACKOFF) -> timedelta | None:
    """How long to wait before trying again after ``attempts`` tries ended in ``failure``; None: give up."""
    if not failure.retryable or attempts > len(backoff):
        return None
    return backoff[attempts - 1]


class BadFaxNumber(ValueError):
    """Raised when a text is not a fax number this gateway can dial."""


_DIGITS_ONLY = re.compile(r"[^\d+]")


def normalize_fax_number(text: str) -> str:
    """A fax number in E.164 form: ``０３（１２３４）５６７８`` or ``+81 3 1234 5678`` → ``+81312345678``.

    Numbers abroad keep their ``+`` form; a domestic number must start with 0 and have
    10 or 11 digits (a trunk prefix and 9 or 10 digits).
    """
    raw = unicodedata.normalize("NFKC", text).strip()
    raw = re.sub(r"^(fax|tel)\s*[:：]?\s*", "", raw, flags=re.I)
    digits = _DIGITS_ONLY.sub("", raw)
    if digits.startswith("+"):
        national = digits[1:]
    elif digits.startswith("00"):  # international call prefix
        national = digits[2:]
    elif digits.startswith("0"):
        if len(digits) not in (10, 11):
            raise BadFaxNumber(f"{text!r}: a Japanese number has 10 or 11 digits")
        return "+81" + digits[1:]
    else:
        raise BadFaxNumber(f"{text!r} is not a fax number")
    if "+" in national or not 8 <= len(national) <= 15:
        raise BadFaxNumber(f"{text!r} is not a fax number")
    if national.startswith("810"):  # +81 0 3 ...: the trunk 0 written after the country code
        national = "81" + national[3:]
    return "+" + national


def domestic_form(e164: str) -> str:
    """``+81312345678`` → ``0312345678``: what Japanese fax services expect in their addresses."""
    return "0" + e164[3:] if e164.startswith("+81") else e164.lstrip("+")


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


@dataclass(frozen=True)
class TransmissionReport:
    job_id: int | None
    ok: bool
    failure: FaxFailure | None
    detail: str


_JOB = re.compile(r"\bFAX-(\d+)\b", re.I)
_OK = re.compile(r"送信(に)?成功|送信完了|正常に送信|\b(success(ful)?|sent|completed|ok)\b", re.I)
_BUSY = re.compile(r"話中|busy", re.I)
_NO_ANSWER = re.compile(r"応答(なし|がありません)|無応答|no\s*answer|no\s*response|not\s*answer", re.I)
_BAD_NUMBER = re.compile(r"番号(誤り|エラー|が(正しく|存在し)ない)|使われておりません|invalid\s*(fax\s*)?number|"
                         r"bad\s*number|wrong\s*number|not\s*a\s*fax", re.I)
_FAILED = re.compile(r"送信(に)?失敗|送信エラー|fail(ed|ure)?|error|unsuccessful", re.I)


def read_transmission_report(subject: str, text: str, references: tuple[str, ...] = ()) -> TransmissionReport | None:
    """A fax service's result mail; None when the mail is not one."""
    found = _JOB.search(subject) or _JOB.search(text)
    job_id = int(found.group(1)) if found else None
    if job_id is None:
        for ref in references:
            match = re.fullmatch(r"fax-(\d+)@.+", ref)
            if match:
                job_id = int(match.group(1))
                break
    words = f"{subject}\n{text}"
    if job_id is None and not re.search(r"fax|ファクス|ファックス|FAX", words, re.I):
        return None
    detail = next((line.strip() for line in text.splitlines() if line.strip()), subject)[:300]
    for pattern, failure in ((_BAD_NUMBER, FaxFailure.BAD_NUMBER), (_BUSY, FaxFailure.BUSY),
                             (_NO_ANSWER, FaxFailure.NO_ANSWER)):
        if pattern.search(words):
            return TransmissionReport(job_id, False, failure, detail)
    if _FAILED.search(words):
        return TransmissionReport(job_id, False, FaxFailure.OTHER, detail)
    if _OK.search(words):
        return TransmissionReport(job_id, True, None, detail)
    return None

