"""DKIM signing of outbound mail with dkimpy, and a DNS-free check of the result.

``DkimSigner.sign`` takes a message exactly as it will go on the wire and returns
it with a ``DKIM-Signature`` header in front: relaxed/relaxed, rsa-sha256. The
signed header list names every header we write, including those a given mail
does not have (Reply-To, In-Reply-To, ...): a relay or an attacker that adds one
later breaks the signature instead of slipping it in. Each name is listed twice
for the same reason when the header is present (RFC 6376 §8.15, "oversigning").

Signing is done on CRLF line endings, because that is what SMTP carries and what
a verifier at the far end hashes.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.transports import crlf
from workflows.errors import PermanentDeliveryError

__all__ = ["SIGNED_HEADERS", "DkimSigner", "public_txt_record", "verify"]

log = logging.getLogger(__name__)

SIGNED_HEADERS: tuple[str, ...] = (
    "From", "To", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Auto-Submitted",
)

_PROBE = b"From: probe@invalid\r\nSubject: probe\r\n\r\nprobe\r\n"


class DkimSigner:
    """Signs outbound mail for ``domain`` with the key published at ``selector._domainkey.domain``."""

    def __init__(self, domain: str, selector: str, private_key_pem: bytes | str,
                 headers: Sequence[str] = SIGNED_HEADERS) -> None:
        self.domain = domain.strip().rstrip(".").lower()
        self.selector = selector.strip()
        self._key = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
        names = [h.strip().lower() for h in headers if h.strip()]
        if "from" not in names:
            raise ValueError("DKIM must sign the From header (RFC 6376 §5.4)")
        self._headers = [name.encode("ascii") for name in dict.fromkeys(names)]
        # A wrong key or selector should stop the gateway at start-up, not fail every mail later.
        try:
            dkim.sign(_PROBE, self.selector.encode(), self.domain.encode(), self._key,
                      canonicalize=(b"relaxed", b"relaxed"), include_headers=[b"from"])
        except dkim.DKIMException as exc:
            raise ValueError(f"DKIM key for {self.record_name} is not usable: {exc}") from exc

    @classmethod
    def from_files(cls, domain: str, selector: str, key_path: Path | str,
                   headers: Sequence[str] = SIGNED_HEADERS) -> DkimSigner:
        return cls(domain, selector, Path(key_path).read_bytes(), headers)

    @property
    def record_name(self) -> str:
        """Where the public key must be published (a TXT record)."""
        return f"{self.selector}._domainkey.{self.domain}"

    def sign(self, raw: bytes) -> bytes:
        """The message with CRLF line endings and a DKIM-Signature header in front.

        Raises PermanentDeliveryError for a message dkimpy cannot parse: sending it
        again would fail the same way.
        """
        message = crlf(raw)
        try:
            signature = dkim.sign(message, self.selector.encode(), self.domain.encode(), self._key,
                                  canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"rsa-sha256",
                                  include_headers=self._oversigned(message), linesep=b"\r\n")
        except dkim.DKIMException as exc:
            raise PermanentDeliveryError(f"DKIM signing for {self.domain} failed: {exc}") from exc
        return bytes(signature) + message

    def _oversigned(self, message: bytes) -> list[bytes]:
        head = message.split(b"\r\n\r\n", 1)[0].lower()
        present = {name for name in self._headers if head.startswith(name + b":") or b"\r\n" + name + b":" in head}
        # Present headers twice (no second copy may be added), absent ones once (none may be added).
        return self._headers + [name for name in self._headers if name in present]


def public_txt_record(private_key_pem: bytes | str) -> str:
    """The TXT record value (``v=DKIM1; k=rsa; p=...``) that publishes this private key's public half."""
    data = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("only RSA keys are supported for DKIM (rsa-sha256)")
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode("ascii")


def _static_dns(records: Mapping[str, str]) -> Callable[..., bytes | None]:
    table = {name.rstrip(".").lower(): value for name, value in records.items()}

    def lookup(name: bytes | str, timeout: float = 5.0) -> bytes | None:
        key = (name.decode("ascii", "replace") if isinstance(name, bytes) else name).rstrip(".").lower()
        value = table.get(key)
        return value.encode("ascii") if value is not None else None

    return lookup


def verify(raw: bytes, dns_txt: Mapping[str, str]) -> bool:
    """Does the first DKIM signature of ``raw`` verify against these TXT records (no DNS asked)?

    ``dns_txt`` maps ``selector._domainkey.domain`` to the record value. Anything
    dkimpy cannot read counts as not verified.
    """
    try:
        return bool(dkim.verify(raw, dnsfunc=_static_dns(dns_txt)))
    except Exception as exc:  # dkimpy raises assorted errors on odd input, not only DKIMException
        log.info("dkim verify: %s", exc)
        return False
