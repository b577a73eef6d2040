"""The cursor: per mailbox and folder, a UID at or below which every message is marked processed.

Kept in the Redis hash ``PREFIX:imap-cursor:NAME``, field FOLDER, value ``UIDVALIDITY:UID``. It only
narrows the search: losing it costs a longer search, never a message. A folder whose UIDVALIDITY
changed (recreated, restored from a backup) gets a fresh cursor, and everything in it not marked
processed is read again; what was already stored is recognised by its content.
"""

from __future__ import annotations

import logging

import redis

from gateway.imap.session import Session

log = logging.getLogger(__name__)


class Cursor:
    def __init__(self, client: redis.Redis, key: str, name: str) -> None:
        self.client = client
        self.key = key
        self.name = name  # the mailbox's, for the log

    def load(self, session: Session) -> int:
        value = self.client.hget(self.key, session.folder)
        if value is None:
            return 0
        text = value.decode() if isinstance(value, bytes) else str(value)
        uidvalidity, _, uid = text.partition(":")
        if uidvalidity != str(session.uidvalidity):
            log.warning("imap %s: UIDVALIDITY of %s changed from %s to %s; reading every message not marked "
                        "processed again", self.name, session.folder, uidvalidity, session.uidvalidity)
            self.client.hdel(self.key, session.folder)
            return 0
        return int(uid)

    def save(self, session: Session, uid: int) -> None:
        if uid > 0:
            self.client.hset(self.key, session.folder, f"{session.uidvalidity}:{uid}")
