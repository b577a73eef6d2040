"""Checking who really sent an inbound message: DKIM with dkimpy, trusted Authentication-Results.

DKIM needs the signer's public key from DNS. Where the gateway has no DNS (a closed
network, the tests), ``TORII_DKIM_TXT_RECORDS`` gives the records instead, and DNS
is then not asked at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import dkim

from parsers.authresults import SenderAuth, Verifier, judge, trusted_results
from parsers.mime.parsed_mail import ParsedMail
from workflows.config import Settings

log = logging.getLogger(__name__)

DNS_TIMEOUT = 3.0


def _static_dns(records: Mapping[str, str]) -> Callable[..., bytes | None]:
    def lookup(name: bytes | str, timeout: float = DNS_TIMEOUT) -> bytes | None:
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        value = records.get(key)
        return value.encode() if value is not None else None

    return lookup


def dkim_result(raw: bytes, dnsfunc: Callable[..., bytes | None] | None = None) -> str:
    """pass, fail, none (unsigned) or temperror (the key could not be fetched)."""
    if b"dkim-signature:" not in raw[:200_000].lower():
        return "none"
    try:
        kwargs = {"dnsfunc": dnsfunc} if dnsfunc else {}
        ok = dkim.verify(raw, timeout=int(DNS_TIMEOUT), **kwargs)
    except dkim.KeyFormatError:
        return "fail"
    except Exception as exc:  # dkimpy raises assorted errors on DNS trouble and odd input
        log.info("dkim: could not verify (%s)", exc)
        return "temperror"
    if ok:
        return "pass"
    # dkimpy answers False both for a bad signature and for a key it could not find.
    return "fail" if _key_available(raw, dnsfunc) else "temperror"


def _key_available(raw: bytes, dnsfunc: Callable[..., bytes | None] | None) -> bool:
    try:
        sig = dkim.DKIM(raw)
        signature = dict(dkim.util.parse_tag_value(sig.headers[_signature_index(sig)][1]))
        name = signature[b"s"] + b"._domainkey." + signature[b"d"] + b"."
        lookup = dnsfunc or dkim.dnsplug.get_txt
        return bool(lookup(name, timeout=DNS_TIMEOUT))
    except Exception:
        return False


def _signature_index(sig: dkim.DKIM) -> int:
    for i, (name, _value) in enumerate(sig.headers):
        if name.lower() == b"dkim-signature":
            return i
    raise LookupError("no DKIM-Signature header")


def make_verifier(settings: Settings) -> Verifier:
    dnsfunc = _static_dns(settings.dkim_txt_records) if settings.dkim_txt_records is not None else None

    def verify(raw: bytes, mail: ParsedMail) -> SenderAuth:
        result = dkim_result(raw, dnsfunc) if settings.dkim_verify else "not checked"
        return judge(result, trusted_results(mail, settings.trusted_authserv_ids))

    return verify
