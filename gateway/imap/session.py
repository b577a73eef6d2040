"""One IMAP session: log in, SELECT the watched folder, learn what the server offers, mark mail processed.

The keyword ``$ToriiProcessed``, not ``\\Seen``, marks what the gateway took in: a person reading the
mailbox in a mail client must not hide mail from the gateway. On a server that refuses keywords (no
``\\*`` in PERMANENTFLAGS) the session falls back to ``\\Seen`` / ``UNSEEN`` and says so in the log.
With ``processed=move`` the mail is moved instead (COPY, ``\\Deleted``, UID EXPUNGE where the server
lacks MOVE); without MOVE, a crash between COPY and ``\\Deleted`` leaves a second copy in the processed
folder: still one row, since the store recognises the content.

An untagged BYE, NO or BAD (Dovecot's way of saying the folder was replaced under an open session)
ends the session like a network error does: the poller reconnects and checks UIDVALIDITY again.
"""

from __future__ import annotations

import enum
import logging
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from gateway.imap.config import MailboxConfig, Processed, Tls

log = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$ToriiProcessed"
SEEN = r"\Seen"
DELETED = r"\Deleted"

# Errors that end a session: the poller reconnects after a backoff.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (IMAPClientError, OSError, socket.timeout, redis.RedisError)


class MarkMode(enum.Enum):
    KEYWORD = "keyword"
    SEEN = "seen"
    MOVE = "move"


@dataclass(frozen=True)
class Session:
    """What one connection learnt at login and SELECT."""

    folder: str  # the watched folder, as the server names it
    uidvalidity: int
    mark: MarkMode
    processed_folder: str | None
    idle: bool
    move: bool
    uidplus: bool


def connect(config: MailboxConfig, timeout: float) -> tuple[IMAPClient, Session]:
    """A logged-in client with the watched folder selected; the socket is closed if any step fails."""
    context = None
    if config.tls is not Tls.NONE:
        context = ssl.create_default_context(cafile=config.ca_file)
    client = IMAPClient(config.host, config.port, ssl=config.tls is Tls.SSL, ssl_context=context, timeout=timeout)
    try:
        return client, _open(client, config, context)
    except BaseException:
        disconnect(client, config.name, graceful=False)
        raise


def _open(client: IMAPClient, config: MailboxConfig, context: ssl.SSLContext | None) -> Session:
    if config.tls is Tls.STARTTLS:
        client.starttls(context)
    client.login(config.username, config.password)
    capabilities = {c.decode().upper() if isinstance(c, bytes) else str(c).upper() for c in client.capabilities()}
    prefix, delimiter = _personal_namespace(client, capabilities)
    folder = server_folder(config.folder, prefix, delimiter)
    selected = client.select_folder(folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    permanent = {f.decode() if isinstance(f, bytes) else str(f) for f in selected.get(b"PERMANENTFLAGS", ())}
    processed_folder = None
    if config.processed is Processed.MOVE:
        mark = MarkMode.MOVE
        processed_folder = server_folder(config.processed_folder, prefix, delimiter)
        if not client.folder_exists(processed_folder):
            try:
                client.create_folder(processed_folder)
                log.info("imap %s: created folder %s", config.name, processed_folder)
            except IMAPClientError:
                if not client.folder_exists(processed_folder):  # another client created it meanwhile
                    raise
    elif "\\*" in permanent or PROCESSED_KEYWORD in permanent:
        mark = MarkMode.KEYWORD
    else:
        mark = MarkMode.SEEN
        log.warning("imap %s: the server keeps no keywords in %s; marking processed mail \\Seen instead, "
                    "so mail a person has read is not taken in", config.name, folder)
    idle = config.idle and "IDLE" in capabilities
    log.info("imap %s: connected to %s:%s (%s), folder %s, UIDVALIDITY %s, marking by %s, %s", config.name,
             config.host, config.port, config.tls.value, folder, uidvalidity, mark.value,
             "IDLE" if idle else f"polling every {config.poll_interval:g} s")
    return Session(folder=folder, uidvalidity=uidvalidity, mark=mark, processed_folder=processed_folder,
                   idle=idle, move="MOVE" in capabilities, uidplus="UIDPLUS" in capabilities)


def _personal_namespace(client: IMAPClient, capabilities: set[str]) -> tuple[str, str | None]:
    if "NAMESPACE" in capabilities:
        personal = client.namespace().personal
        if personal:
            prefix, delimiter = personal[0]
            return str(prefix), (str(delimiter) if delimiter else None)
    listed = client.list_folders("", "")  # LIST "" "" answers with the hierarchy delimiter
    delimiter = listed[0][1] if listed else None
    if isinstance(delimiter, bytes):
        delimiter = delimiter.decode()
    return "", delimiter or None


def server_folder(path: str, prefix: str, delimiter: str | None) -> str:
    """``Torii/Processed`` as this server spells it: its delimiter, inside its personal namespace."""
    if path.upper() == "INBOX":
        return "INBOX"
    name = path.replace("/", delimiter) if delimiter else path
    if prefix and not name.startswith(prefix) and name.upper() != prefix.rstrip(delimiter or "").upper():
        name = prefix + name
    return name


def disconnect(client: IMAPClient, name: str, *, graceful: bool) -> None:
    try:
        if graceful:
            client.logout()
        else:
            client.shutdown()
    except Exception as exc:  # it is going away either way
        log.debug("imap %s: closing the connection: %s", name, exc)
        try:
            client.shutdown()
        except Exception:
            pass


def search_criteria(session: Session, cursor: int) -> list[Any]:
    """What is above the cursor and not marked processed."""
    criteria: list[Any] = ["UID", f"{cursor + 1}:*"]
    if session.mark is MarkMode.KEYWORD:
        criteria += ["UNKEYWORD", PROCESSED_KEYWORD]
    elif session.mark is MarkMode.SEEN:
        criteria += ["UNSEEN"]
    else:
        criteria += ["NOT", "DELETED"]  # copied already by a COPY-based move cut short before EXPUNGE
    return criteria


def mark_processed(client: IMAPClient, session: Session, uids: list[int]) -> None:
    """Mark messages processed; called only after they are committed."""
    if session.mark is MarkMode.KEYWORD:
        client.add_flags(uids, [PROCESSED_KEYWORD], silent=True)
    elif session.mark is MarkMode.SEEN:
        client.add_flags(uids, [SEEN], silent=True)
    else:
        assert session.processed_folder is not None
        if session.move:
            client.move(uids, session.processed_folder)
        else:
            client.copy(uids, session.processed_folder)
            client.add_flags(uids, [DELETED], silent=True)
            if session.uidplus:
                client.uid_expunge(uids)
            else:
                client.expunge()  # also expunges what others flagged \Deleted: no UIDPLUS, no choice


def news_arrived(client: IMAPClient | None) -> bool:
    """Whether an EXISTS arrived among the responses to our own commands.

    imaplib files untagged responses away, and an EXISTS seen there is not sent again
    in IDLE; without looking, mail that arrived during a poll would wait for the next one.
    """
    pending = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(pending, dict):
        return False
    pending.pop("RECENT", None)
    return bool(pending.pop("EXISTS", None))


def raise_on_trouble(responses: Sequence[Any]) -> None:
    """End the session on an untagged BYE, NO or BAD.

    Dovecot says NO ("Internal error") to an idling session whose folder was deleted and
    created again, and then keeps answering from the old folder: only a new session sees the
    new one (and its new UIDVALIDITY).
    """
    for response in responses:
        if isinstance(response, tuple) and response and response[0] in (b"BYE", b"NO", b"BAD"):
            raise IMAPClientAbortError(f"server said {b' '.join(_text(r) for r in response).decode(errors='replace')}")


def _text(item: Any) -> bytes:
    return item if isinstance(item, bytes) else str(item).encode()


def is_news(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) > 1 and response[1] in (b"EXISTS", b"RECENT")
