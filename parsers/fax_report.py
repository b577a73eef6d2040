"""Transmission reports: the mails a fax service sends back to say whether a fax went through.

A report names its job (``[FAX-12]`` in the subject or body, or a ``fax-12@`` reference)
and says how it ended, in Japanese or English: sent, busy, no answer, a bad number, failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FaxFailure", "TransmissionReport", "read_transmission_report"]


class FaxFailure(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    BAD_NUMBER = "bad_number"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self in (FaxFailure.BUSY, FaxFailure.NO_ANSWER, FaxFailure.OTHER)


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
