"""Sender authentication results: what DKIM, SPF and DMARC said about a message.

``Authentication-Results`` headers (RFC 8601) are written by whichever server
handled the message; anyone can forge one, so only headers whose authserv-id
is in a configured trusted set count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from parsers.mime.parsed_mail import ParsedMail

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.I)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: dict[str, str]  # method → result, e.g. {"dkim": "pass", "spf": "fail", "dmarc": "pass"}


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """Parse one header value; None when it has no authserv-id."""
    text = value
    for _ in range(3):  # comments may nest
        text = _COMMENT.sub(" ", text)
    parts = [p.strip() for p in text.split(";")]
    if not parts or not parts[0]:
        return None
    authserv_id = parts[0].split()[0].lower()
    results: dict[str, str] = {}
    for part in parts[1:]:
        match = _RESULT.match(part)
        if match:
            # The first result for a method wins: later ones describe other signatures.
            results.setdefault(match.group(1).lower(), match.group(2).lower())
    return AuthenticationResults(authserv_id, results)


@dataclass(frozen=True)
class SenderAuth:
    """The verdict on a message's sender: what was checked, and whether anything failed."""

    dkim: str  # pass, fail, none (no signature), temperror, not checked
    trusted_results: dict[str, str]  # from trusted Authentication-Results headers
    reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    def as_record(self) -> dict[str, object]:
        return {"dkim": self.dkim, "trusted_results": self.trusted_results, "failures": list(self.reasons)}


# Judges whether a raw mail comes from whom it says: DKIM and trusted Authentication-Results (gateway.senderauth).
Verifier = Callable[[bytes, ParsedMail], SenderAuth]


def trusted_results(mail: ParsedMail, trusted_ids: Collection[str]) -> dict[str, str]:
    """Merged results of the Authentication-Results headers written by trusted servers."""
    merged: dict[str, str] = {}
    wanted = {t.lower() for t in trusted_ids}
    for value in mail.header_all("Authentication-Results"):
        parsed = parse_authentication_results(value)
        if parsed and parsed.authserv_id in wanted:
            for method, result in parsed.results.items():
                merged.setdefault(method, result)
    return merged


def judge(dkim: str, trusted: dict[str, str]) -> SenderAuth:
    """Fail on a broken DKIM signature or a trusted server's dkim/dmarc/spf fail; absence is not failure."""
    reasons = []
    if dkim == "fail":
        reasons.append("DKIM signature does not verify")
    for method in ("dmarc", "dkim", "spf"):
        if trusted.get(method) in ("fail", "permerror"):
            reasons.append(f"{method}={trusted[method]} according to a trusted Authentication-Results header")
    return SenderAuth(dkim=dkim, trusted_results=trusted, reasons=tuple(reasons))
