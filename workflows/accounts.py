"""Operator accounts and their console sessions: passwords, logins with a lockout, expiry, logout.

Passwords are argon2id (``argon2-cffi``'s defaults, RFC 9106's low-memory profile). A login that
fails ``login_failure_limit`` times in a row locks the account for ``login_lock_minutes``: a guesser
gets a handful of tries per quarter hour, whatever the password's strength. An unknown name costs
the same hash as a known one, and answers the same refusal, so names cannot be probed. A buyer's user
(``workflows.users``) logs in with its email address instead of a name.

A session is a random token in an HttpOnly cookie; the database keeps its SHA-256, when it was
opened and last used, and the CSRF token its forms carry. Sessions end after
``session_idle_minutes`` without use or ``session_max_hours`` in all, at logout, and, for all of an
operator's other sessions, when its password changes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.access import ROLES, Principal, check_grant
from workflows.config import Settings
from workflows.errors import InvalidRequest, ToriiError
from workflows.models import Operator, OperatorSession

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the name is unknown, so that both cost one argon2 hash.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class LoginRefused(ToriiError):
    """Wrong name or password, or a locked or disabled account; the message says which only to the log."""

    def __init__(self, reason: str, *, locked: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.locked = locked


# Sessions and tokens record their last use at most this often.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Found:
    """A credential that holds: who it is, and whether its last use is older than TOUCH_EVERY."""

    principal: Principal
    stale: bool


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie; never stored
    principal: Principal


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """argon2id of a password that keeps the rules: every account's password is stored this way."""
    check_password_rules(password)
    return _hasher.hash(password)


def add_operator(session: Session, name: str, password: str, role: str, *, buyer_id: int | None = None,
                 issuer: str | None = None, language: str = "ja") -> Operator:
    name = check_grant(session, "an operator", name, role, ROLES, buyer_id, issuer)
    if session.scalar(select(Operator.id).where(Operator.name == name)) is not None:
        raise InvalidRequest(f"operator {name!r} exists already")
    operator = Operator(name=name, password_hash=hash_password(password), role=role, buyer_id=buyer_id,
                        issuer=issuer or None, language=language)
    session.add(operator)
    session.flush()
    return operator


def principal_of(operator: Operator, csrf_token: str | None = None) -> Principal:
    return Principal(actor=f"operator:{operator.name}", level=ROLES[operator.role], buyer_id=operator.buyer_id,
                     issuer=operator.issuer, operator_id=operator.id, csrf_token=csrf_token)


def authenticate(session: Session, settings: Settings, name: str, password: str) -> Operator:
    """The operator, when the password is right and the account neither locked nor disabled.

    ``name`` is the operator's name, or the email address of a buyer's user (manual 004), who logs in with it.
    """
    name = name.strip()
    by = Operator.email == name.lower() if "@" in name else Operator.name == name
    operator = session.scalars(select(Operator).where(by).with_for_update()).first()
    if operator is None or operator.invite_pending:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused(f"no operator named {name!r}" if operator is None
                           else f"{name!r} has not accepted the invitation yet")
    now = clock.now()
    if operator.locked_until is not None and operator.locked_until > now:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused(f"operator {operator.name!r} is locked until {operator.locked_until:%H:%M} UTC",
                           locked=True)
    if not _verify(operator.password_hash, password):
        operator.failed_logins += 1
        if operator.failed_logins >= settings.login_failure_limit:
            operator.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            operator.failed_logins = 0
            raise LoginRefused(f"wrong password for {operator.name!r}; locked", locked=True)
        raise LoginRefused(f"wrong password for {operator.name!r}")
    if operator.disabled:
        raise LoginRefused(f"operator {operator.name!r} is disabled")
    operator.failed_logins = 0
    operator.locked_until = None
    purge_expired_sessions(session, settings)
    if _hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = _hasher.hash(password)
    return operator


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(session: Session, operator: Operator, peer: str | None = None) -> OpenedSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_hash(token), operator_id=operator.id, csrf_token=csrf,
                                peer=(peer or "")[:255] or None))
    return OpenedSession(token, principal_of(operator, csrf))


def session_principal(session: Session, settings: Settings, token: str) -> Found | None:
    """Who holds this session token, or None when it is unknown, expired, or its operator disabled.

    Reads only, so that every page view stays a read; the caller passes a stale session to
    :func:`touch_session` in a writing transaction, at most once a minute.
    """
    row = session.get(OperatorSession, token_hash(token))
    if row is None:
        return None
    operator = session.get(Operator, row.operator_id)
    now = clock.now()
    if (operator is None or operator.disabled
            or now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
            or now - row.created_at > timedelta(hours=settings.session_max_hours)):
        return None
    return Found(principal_of(operator, row.csrf_token), stale=now - row.last_seen_at > TOUCH_EVERY)


def touch_session(session: Session, token: str) -> None:
    row = session.get(OperatorSession, token_hash(token))
    if row is not None:
        row.last_seen_at = clock.now()


def purge_expired_sessions(session: Session, settings: Settings) -> None:
    now = clock.now()
    session.execute(delete(OperatorSession).where(
        (OperatorSession.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes))
        | (OperatorSession.created_at < now - timedelta(hours=settings.session_max_hours))))


def close_session(session: Session, token: str) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.token_hash == token_hash(token)))


def set_password(session: Session, operator: Operator, new: str) -> None:
    """An administrator's reset: the new password, and every session of the operator ends."""
    operator.password_hash = hash_password(new)
    operator.password_changed_at = clock.now()
    operator.failed_logins, operator.locked_until = 0, None
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))


def change_password(session: Session, operator: Operator, current: str, new: str, *, keep_token: str) -> None:
    """A new password; every other session of the operator ends (a stolen one among them)."""
    if not _verify(operator.password_hash, current):
        raise InvalidRequest("the current password is wrong")
    if new == current:
        raise InvalidRequest("the new password is the current one")
    operator.password_hash = hash_password(new)
    operator.password_changed_at = clock.now()
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id,
                                                  OperatorSession.token_hash != token_hash(keep_token)))
