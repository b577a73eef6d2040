"""API tokens: how a platform calls Torii. Made with a scope, shown once, kept as a SHA-256, revocable.

A token is 32 random bytes: a fast hash is enough to keep it (nobody guesses 256 bits), and lets
every request find its token with one indexed lookup.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import clock
from workflows.access import SCOPES, Principal, check_grant
from workflows.accounts import TOUCH_EVERY, Found, token_hash
from workflows.errors import NotFound
from workflows.models import ApiToken

PREFIX = "torii_"


def issue_token(session: Session, name: str, scope: str, *, buyer_id: int | None = None,
                issuer: str | None = None) -> tuple[ApiToken, str]:
    """A new token row and the token itself, which is not kept and cannot be shown again."""
    name = check_grant(session, "a token", name, scope, SCOPES, buyer_id, issuer)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=token_hash(secret), prefix=secret[:12], scope=scope, buyer_id=buyer_id,
                   issuer=issuer or None)
    session.add(row)
    session.flush()
    return row, secret


def token_principal(session: Session, secret: str) -> Found | None:
    """Who holds this token, or None; reads only (see ``accounts.session_principal``)."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    if row is None or row.revoked_at is not None:
        return None
    principal = Principal(actor=f"token:{row.name}", level=SCOPES[row.scope], buyer_id=row.buyer_id,
                          issuer=row.issuer)
    return Found(principal, stale=row.last_used_at is None or clock.now() - row.last_used_at > TOUCH_EVERY)


def touch_token(session: Session, secret: str) -> None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    if row is not None:
        row.last_used_at = clock.now()


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row
