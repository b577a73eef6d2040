"""Temporary credentials (仮ID・仮パスワード) for invitations sent on paper, after manual 000: drawn and kept.

The alphabet they are drawn from, their normal form and finding them in a mail are
``parsers.credential_text``'s. Secrets are stored only as hashes: :func:`hash_secret` is salted scrypt, checked
in constant time by :func:`verify_secret`. A row is found by its temporary ID
through :func:`lookup_key`, a keyed HMAC, so the ID is never stored in clear
either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from parsers.credential_text import ALPHABET, LENGTH, normalize_credential

__all__ = ["hash_secret", "lookup_key", "new_temporary_credentials", "verify_secret"]

# scrypt cost: 2**14 × 8 × 128 bytes = 16 MiB and ~50 ms per hash on this machine.
_SCRYPT_LOG2_N = 14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32


def new_temporary_credentials() -> tuple[str, str]:
    """A fresh (temporary ID, temporary password): 8 random ALPHABET characters each, never equal.

    The caller stores ``lookup_key(id)`` under a unique constraint and draws again on a
    collision (24**8 IDs: a collision is expected only after some 300,000 live IDs).
    """
    while True:
        temp_id = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        temp_password = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if temp_id != temp_password:
            return temp_id, temp_password


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(value: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        normalize_credential(value).encode("utf-8"), salt=salt, n=n, r=r, p=p,
        maxmem=256 * r * (n + p + 2), dklen=length)


def hash_secret(value: str) -> str:
    """``scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`` of the normalized value, with a fresh random salt.

    The value is normalized first (:func:`normalize_credential`), so "hn9w-e3ac" verifies
    against the hash of "HN9WE3AC": meant for temporary credentials, not free-form passwords.
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(value, salt, _SCRYPT_LOG2_N, _SCRYPT_R, _SCRYPT_P, _HASH_BYTES)
    return f"scrypt${_SCRYPT_LOG2_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(value: str, stored: str) -> bool:
    """True if ``value`` (normalized) is the secret ``stored`` was made from; False for anything else.

    The digests are compared in constant time; a malformed ``stored`` is False, not an error.
    """
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not 10 <= int(log2_n) <= 20 or not 1 <= int(r) <= 32 or not 1 <= int(p) <= 16:
            return False
        expected = _unb64(digest)
        actual = _scrypt(value, _unb64(salt), int(log2_n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def lookup_key(temp_id: str, server_key: bytes) -> str:
    """HMAC-SHA256 of the normalized temporary ID under the server's key, hex: a column to find a row by.

    Without the key, a copy of the database gives no ID; with it, finding a row is one
    indexed look-up (a salted hash could not be looked up).
    """
    if len(server_key) < 16:
        raise ValueError("server_key must be at least 16 bytes")
    return hmac.new(server_key, normalize_credential(temp_id).encode("utf-8"), hashlib.sha256).hexdigest()
