"""IMAP mailboxes as configured: ``TORII_IMAP_MAILBOXES`` holds URLs separated by whitespace::

    imap://USER:PASSWORD@HOST[:PORT][/FOLDER][?KEY=VALUE&...]    STARTTLS unless tls= says otherwise; port 143
    imaps://USER:PASSWORD@HOST[:PORT][/FOLDER][?KEY=VALUE&...]   TLS from the first byte; port 993

    USER, PASSWORD, FOLDER  percent-encoded (``%40`` for ``@``, ``%20`` for a space); FOLDER defaults
                            to INBOX and separates levels with ``/`` whatever the server's delimiter
    name=              what logs, the lock and the cursor call the mailbox (default USER@HOST:PORT/FOLDER);
                       every gateway process must give one mailbox the same name
    tls=               none | starttls | ssl
    ca_file=           verify the server's certificate against this bundle instead of the system's
    processed=         flag (default): add the keyword ``$ToriiProcessed``; move: move to processed_folder
    processed_folder=  default ``Torii/Processed``; created when missing
    idle=              on (default) | off: poll every poll_interval even when the server offers IDLE
    poll_interval=     seconds between polls without IDLE (default 30)
    idle_timeout=      seconds before an IDLE is renewed with a full poll (default 300; at most 25 min)

For example
``imaps://orders%40example.co.jp:s3cret@imap.example.co.jp/INBOX?processed=move&name=orders``.

Kept apart from the poller so that ``torii up`` can refuse a bad URL before any process starts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

# RFC 2177: a server may drop a client idling for 30 minutes; renew well before.
MAX_IDLE_SECONDS = 25 * 60.0

class Tls(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class Processed(enum.StrEnum):
    FLAG = "flag"  # keyword $ToriiProcessed
    MOVE = "move"  # into processed_folder


@dataclass(frozen=True)
class MailboxConfig:
    name: str
    host: str
    port: int
    tls: Tls
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    processed: Processed = Processed.FLAG
    processed_folder: str = "Torii/Processed"
    poll_interval: float = 30.0
    idle_timeout: float = 300.0
    idle: bool = True  # False: poll even when the server offers IDLE
    ca_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tls", Tls(self.tls))
        object.__setattr__(self, "processed", Processed(self.processed))
        if self.poll_interval <= 0 or self.idle_timeout <= 0:
            raise ValueError(f"mailbox {self.name}: poll_interval and idle_timeout must be positive")
        object.__setattr__(self, "idle_timeout", min(self.idle_timeout, MAX_IDLE_SECONDS))
        if not self.name or not self.host or not self.username:
            raise ValueError("a mailbox needs a name, a host and a user")


_URL_KEYS = {"name", "tls", "ca_file", "processed", "processed_folder", "idle", "poll_interval", "idle_timeout"}
_TRUE = {"1", "on", "yes", "true"}
_FALSE = {"0", "off", "no", "false"}


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{parts.username}:***@{netloc[2]}").geturl()


def mailbox_from_url(url: str) -> MailboxConfig:
    """One ``imap://`` or ``imaps://`` URL (see the module docstring); raises ValueError."""
    shown = _redacted(url)
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"IMAP mailbox {shown}: the URL must start with imap:// or imaps://")
    try:
        port_number = parts.port
    except ValueError as exc:
        raise ValueError(f"IMAP mailbox {shown}: {exc}") from exc
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ValueError(f"IMAP mailbox {shown}: user, password and host are required (imap://user:pass@host)")
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _URL_KEYS:
            raise ValueError(f"IMAP mailbox {shown}: unknown parameter {key!r}; known: {', '.join(sorted(_URL_KEYS))}")
        params[key] = value
    tls = Tls.SSL if parts.scheme == "imaps" else Tls.STARTTLS
    if "tls" in params:
        try:
            tls = Tls(params["tls"].lower())
        except ValueError:
            raise ValueError(f"IMAP mailbox {shown}: tls must be none, starttls or ssl") from None
    port = port_number or (993 if tls is Tls.SSL else 143)
    username, password = unquote(parts.username), unquote(parts.password)
    folder = unquote(parts.path.lstrip("/")).strip("/") or "INBOX"
    idle = params.get("idle", "on").lower()
    if idle not in _TRUE | _FALSE:
        raise ValueError(f"IMAP mailbox {shown}: idle must be on or off")
    try:
        processed = Processed(params.get("processed", "flag").lower())
    except ValueError:
        raise ValueError(f"IMAP mailbox {shown}: processed must be flag or move") from None
    try:
        poll_interval = float(params.get("poll_interval", 30.0))
        idle_timeout = float(params.get("idle_timeout", 300.0))
    except ValueError:
        raise ValueError(f"IMAP mailbox {shown}: poll_interval and idle_timeout are seconds") from None
    return MailboxConfig(
        name=params.get("name") or f"{username}@{parts.hostname}:{port}/{folder}",
        host=parts.hostname,
        port=port,
        tls=tls,
        username=username,
        password=password,
        folder=folder,
        processed=processed,
        processed_folder=params.get("processed_folder") or "Torii/Processed",
        poll_interval=poll_interval,
        idle_timeout=idle_timeout,
        idle=idle in _TRUE,
        ca_file=params.get("ca_file") or None,
    )


def mailboxes_from_env(value: str | None) -> list[MailboxConfig]:
    """The mailboxes in ``TORII_IMAP_MAILBOXES`` (none when unset); raises ValueError on a bad entry."""
    configs = [mailbox_from_url(url) for url in (value or "").split()]
    seen: set[str] = set()
    for config in configs:
        if config.name in seen:
            raise ValueError(f"IMAP mailbox name {config.name!r} is used twice; give each a distinct name=")
        seen.add(config.name)
    return configs
