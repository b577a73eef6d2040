"""Mail transports: one method, ``send``; workflows never see them.

``SpoolTransport`` (the default) captures each mail as a file named by its
idempotency key, so a second send of the same message is a no-op.
``SmtpTransport`` hands mail to a relay named by ``SMTP_URL`` and translates
SMTP failures into temporary (4xx, connection) and permanent (5xx) errors.
Either may be given a signer (``gateway.dkim.DkimSigner``): what is spooled is
then byte for byte what would have been relayed.

``SMTP_URL``::

    smtp://relay:25                       plain
    smtp://user:pass@relay:587?starttls=1 STARTTLS, then AUTH
    smtps://user:pass@relay:465           implicit TLS
      &timeout=30                         seconds for the connection and for every reply
      &cafile=/etc/torii/relay-ca.pem     trust this CA (a private relay); verification stays on
      &helo=gw.example.com                the name we greet with (default: this host's FQDN)
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from workflows.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError

log = logging.getLogger(__name__)

# Reply codes we act on (RFC 5321 §4.2).
SERVICE_CLOSING = 421
OK_CODES = (250, 251)
# 5xx replies about our session, not the message: authentication or encryption required
# (RFC 4954 530/534/535, RFC 3207 530, 538). Failing mail for them would turn a wrong
# SMTP_URL into undeliverable invitations; they wait for the fix like 4xx.
SESSION_REFUSALS = frozenset({530, 534, 535, 538})


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    key: str  # idempotency key: the same key is never delivered twice by a transport that can tell


class MailTransport(Protocol):
    def send(self, envelope: Envelope) -> None: ...


class MessageSigner(Protocol):
    """Turns a message into the signed message to send (``gateway.dkim.DkimSigner``)."""

    def sign(self, raw: bytes) -> bytes: ...


class SpoolTransport:
    def __init__(self, directory: Path, signer: MessageSigner | None = None) -> None:
        self.directory = directory
        self.signer = signer

    def path_for(self, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in key)
        return self.directory / f"{safe}.eml"

    def send(self, envelope: Envelope) -> None:
        target = self.path_for(envelope.key)
        if target.exists():
            return
        raw = self.signer.sign(envelope.raw) if self.signer else envelope.raw
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".tmp")
            with open(temp, "wb") as fh:
                fh.write(raw)
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
    password: str | None = field(repr=False)
    timeout: float
    cafile: Path | None = None  # extra CA to trust; certificates are always verified
    helo: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        """``smtp://user:pass@host:587?starttls=1`` or ``smtps://host:465`` (see the module docstring)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        query = parse_qs(parts.query)

        def value(name: str) -> str | None:
            return query[name][-1] if name in query else None

        security = "tls" if parts.scheme == "smtps" else "plain"
        if (value("starttls") or "0").lower() in ("1", "true", "yes"):
            if security == "tls":
                raise ValueError("SMTP_URL: smtps:// is already TLS; starttls=1 is for smtp://")
            security = "starttls"
        timeout = float(value("timeout") or "30")
        if timeout <= 0:
            raise ValueError("SMTP_URL: timeout must be a positive number of seconds")
        cafile = Path(value("cafile") or "") if value("cafile") else None
        if cafile is not None and not cafile.is_file():
            raise ValueError(f"SMTP_URL: cafile {cafile} does not exist")
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if security == "tls" else 25),
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
            cafile=cafile,
            helo=value("helo"),
        )

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class _StaleConnection(Exception):
    """A reused connection turned out dead before anything of the message was sent."""


@dataclass
class _Connection:
    client: smtplib.SMTP
    last_used: float
    sent: int = 0


class SmtpTransport:
    """Relays mail over SMTP, one kept-open connection per thread.

    A connection idle for longer than ``idle_check`` seconds is probed with NOOP
    first; one that the relay has closed meanwhile (it answers 421, or the socket
    is gone) is replaced once, transparently, as long as nothing of the message
    was sent on it. After DATA has started nothing is resent here: the outbox
    retries the whole delivery, which may at worst deliver a mail twice.
    """

    def __init__(self, relay: SmtpRelay, signer: MessageSigner | None = None, *,
                 idle_check: float = 5.0) -> None:
        self.relay = relay
        self.signer = signer
        self.idle_check = idle_check
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[smtplib.SMTP] = set()
        # Built once: loading the CA store costs more than a whole local SMTP transaction.
        self._tls = ssl.create_default_context(cafile=str(relay.cafile) if relay.cafile else None)

    # -- the one method ---------------------------------------------------------------------------

    def send(self, envelope: Envelope) -> None:
        raw = crlf(envelope.raw)
        if self.signer:
            raw = self.signer.sign(raw)
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                self._transact(conn.client, envelope, raw, stale_possible=reused and attempt == 1)
            except _StaleConnection:
                log.info("smtp: connection to %s was closed by the relay; reconnecting (key %s)",
                         self.relay, envelope.key)
                self._discard()
                continue
            except DeliveryError:
                raise
            except smtplib.SMTPResponseException as exc:
                # Raised by smtplib itself: DATA refused before 354, or a 421 it closed on.
                self._discard()
                _raise_for(exc.smtp_code, _text(exc.smtp_error), f"relay {self.relay}", exc)
            except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts and resets
                self._discard()
                raise TemporaryDeliveryError(f"relay {self.relay}: {type(exc).__name__}: {exc}") from exc
            conn.last_used = time.monotonic()
            conn.sent += 1
            log.debug("smtp: %s relayed to %s as message %s of its connection", envelope.key, self.relay, conn.sent)
            return
        raise AssertionError("unreachable: the second attempt never raises _StaleConnection")

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this transport holds (at shutdown, when no send is running)."""
        with self._lock:
            clients, self._open = list(self._open), set()
        for client in clients:
            _quit(client)
        self._local.__dict__.clear()

    # -- one transaction ---------------------------------------------------------------------------

    def _transact(self, client: smtplib.SMTP, envelope: Envelope, raw: bytes, *, stale_possible: bool) -> None:
        where = f"relay {self.relay}"
        try:
            code, reply = client.mail(envelope.mail_from, self._mail_options(client, envelope, raw))
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            if stale_possible:
                raise _StaleConnection from exc
            raise
        if code == SERVICE_CLOSING and stale_possible:
            raise _StaleConnection
        if code not in OK_CODES:
            self._after_refusal(client, code)
            _raise_for(code, _text(reply), f"{where} refused MAIL FROM:<{envelope.mail_from}>")

        accepted: list[str] = []
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in envelope.rcpt_tos:
            code, reply = client.rcpt(rcpt)
            if code in OK_CODES:
                accepted.append(rcpt)
            elif code == SERVICE_CLOSING:
                self._discard()
                _raise_for(code, _text(reply), f"{where} closed the connection at RCPT TO:<{rcpt}>")
            else:
                refused[rcpt] = (code, _text(reply))
        summary = "; ".join(f"<{r}>: {c} {t}" for r, (c, t) in refused.items())
        if refused and (not accepted or any(c < 500 for c, _ in refused.values())):
            # Nothing is sent while a retry could still reach everyone: a retry then
            # sends to all recipients again, and nobody gets the mail twice.
            self._after_refusal(client, 0)
            _raise_for(min(c for c, _ in refused.values()), summary, f"{where} refused recipients")

        code, reply = client.data(raw)
        if code not in OK_CODES:
            self._after_refusal(client, code)
            _raise_for(code, _text(reply), f"{where} refused the message data")
        if refused:
            # Sent to the others; the permanently refused addresses will never take it.
            raise PermanentDeliveryError(
                f"{where} refused recipients for good: {summary}; delivered to {', '.join(accepted)}")

    def _mail_options(self, client: smtplib.SMTP, envelope: Envelope, raw: bytes) -> list[str]:
        options: list[str] = []
        if client.has_extn("size"):
            options.append(f"SIZE={len(raw)}")
        if client.has_extn("8bitmime") and not raw.isascii():
            options.append("BODY=8BITMIME")
        if not (envelope.mail_from + "".join(envelope.rcpt_tos)).isascii():
            if not client.has_extn("smtputf8"):
                raise PermanentDeliveryError(
                    f"relay {self.relay} does not offer SMTPUTF8, needed for a non-ASCII address")
            options.append("SMTPUTF8")
        return options

    def _after_refusal(self, client: smtplib.SMTP, code: int) -> None:
        """Leave the connection ready for the next mail, or drop it if the relay is going away."""
        if code == SERVICE_CLOSING:
            self._discard()
            return
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            self._discard()

    # -- connections ---------------------------------------------------------------------------------

    def _connection(self) -> tuple[_Connection, bool]:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            if time.monotonic() - conn.last_used < self.idle_check or self._alive(conn.client):
                return conn, True
            self._discard()
        conn = _Connection(self._connect(), time.monotonic())
        self._local.conn = conn
        with self._lock:
            self._open.add(conn.client)
        return conn, False

    def _alive(self, client: smtplib.SMTP) -> bool:
        try:
            return client.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def _connect(self) -> smtplib.SMTP:
        relay = self.relay
        where = f"relay {relay}"
        client: smtplib.SMTP | None = None
        try:
            # The constructors connect and read the greeting; smtplib closes the socket
            # itself when that fails (and raises SMTPConnectError for a non-220 greeting).
            if relay.security == "tls":
                client = smtplib.SMTP_SSL(relay.host, relay.port, local_hostname=relay.helo,
                                          timeout=relay.timeout, context=self._tls)
            else:
                client = smtplib.SMTP(relay.host, relay.port, local_hostname=relay.helo, timeout=relay.timeout)
            client.ehlo_or_helo_if_needed()
            if relay.security == "starttls":
                if not client.has_extn("starttls"):
                    raise TemporaryDeliveryError(f"{where} does not offer STARTTLS (SMTP_URL asks for it)")
                client.starttls(context=self._tls)
                client.ehlo_or_helo_if_needed()
            if relay.username:
                client.login(relay.username, relay.password or "")
        except BaseException as exc:
            if client is not None:
                client.close()
            if isinstance(exc, smtplib.SMTPConnectError):
                # A relay that will not serve us (554 on connect) is our setup, not the message.
                raise TemporaryDeliveryError(
                    f"{where} greeted us with {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            if isinstance(exc, DeliveryError):
                raise
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise TemporaryDeliveryError(
                    f"{where}: TLS certificate not trusted ({exc.verify_message}); "
                    "fix the relay's certificate or SMTP_URL's cafile") from exc
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                # Our credentials are wrong, not the message: it must wait for the fix, not fail.
                raise TemporaryDeliveryError(
                    f"{where} refused our login as {relay.username!r}: {exc.smtp_code} {_text(exc.smtp_error)}"
                ) from exc
            if isinstance(exc, (smtplib.SMTPException, OSError)):
                raise TemporaryDeliveryError(f"{where}: cannot connect: {type(exc).__name__}: {exc}") from exc
            raise
        assert client is not None
        log.info("smtp: connected to %s (%s%s)", relay, relay.security,
                 f", as {relay.username}" if relay.username else "")
        return client

    def _discard(self) -> None:
        conn: _Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None:
            return
        with self._lock:
            self._open.discard(conn.client)
        _quit(conn.client)


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def crlf(raw: bytes) -> bytes:
    """``raw`` with every line ending CRLF, as SMTP carries it.

    smtplib sends bytes as they are, and ``EmailMessage.as_bytes()`` ends lines with
    a bare LF, which strict relays refuse (Postfix 3.9) or misread (aiosmtpd takes
    the whole message for one over-long line).
    """
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _raise_for(code: int, text: str, where: str = "SMTP", cause: BaseException | None = None) -> None:
    """5xx is final (RFC 5321 §4.2.1) except SESSION_REFUSALS; 4xx, and odd replies, may pass."""
    message = f"{where}: {code} {text}".strip()
    if 500 <= code < 600 and code not in SESSION_REFUSALS:
        raise PermanentDeliveryError(message) from cause
    raise TemporaryDeliveryError(message) from cause


def transport_from_env(spool_dir: Path, smtp_url: str | None, signer: MessageSigner | None = None) -> MailTransport:
    if smtp_url:
        return SmtpTransport(SmtpRelay.from_url(smtp_url), signer)
    return SpoolTransport(spool_dir / "mail", signer)
