"""Mail transports: one method, ``send``; workflows never see them.

``SpoolTransport`` (the default) captures each mail as a file named by its
idempotency key, so a second send of the same message is a no-op.
``SmtpTransport`` hands mail to a relay named by ``SMTP_URL`` and translates
SMTP failures into temporary (4xx, connection) and permanent (5xx) errors.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from gateway.errors import PermanentDeliveryError, TemporaryDeliveryError


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    key: str  # idempotency key: the same key is never delivered twice by a transport that can tell


class MailTransport(Protocol):
    def send(self, envelope: Envelope) -> None: ...


class SpoolTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in key)
        return self.directory / f"{safe}.eml"

    def send(self, envelope: Envelope) -> None:
        target = self.path_for(envelope.key)
        if target.exists():
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".tmp")
            with open(temp, "wb") as fh:
                fh.write(envelope.raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except OSError as exc:
            raise TemporaryDeliveryError(f"spool write failed: {exc}") from exc


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        """``smtp://user:pass@host:587?starttls=1`` or ``smtps://host:465``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        query = parse_qs(parts.query)
        security = "tls" if parts.scheme == "smtps" else "plain"
        if query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            security = "starttls"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if security == "tls" else 25),
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", ["30"])[0]),
        )


class SmtpTransport:
    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    def _connect(self) -> smtplib.SMTP:
        relay = self.relay
        if relay.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                relay.host, relay.port, timeout=relay.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
            if relay.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if relay.username:
            client.login(relay.username, relay.password or "")
        return client

    def send(self, envelope: Envelope) -> None:
        try:
            with self._connect() as client:
                refused = client.sendmail(envelope.mail_from, list(envelope.rcpt_tos), envelope.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            _raise_for(min(codes), str(exc.recipients))
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            _raise_for(exc.smtp_code, error.decode(errors="replace") if isinstance(error, bytes) else str(error))
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"relay {self.relay.host}:{self.relay.port}: {exc}") from exc
        if refused:
            code = min(code for code, _ in refused.values())
            _raise_for(code, str(refused))


def _raise_for(code: int, text: str) -> None:
    if 400 <= code < 500:
        raise TemporaryDeliveryError(f"SMTP {code}: {text}")
    raise PermanentDeliveryError(f"SMTP {code}: {text}")


def transport_from_env(spool_dir: Path, smtp_url: str | None) -> MailTransport:
    if smtp_url:
        return SmtpTransport(SmtpRelay.from_url(smtp_url))
    return SpoolTransport(spool_dir / "mail")
