"""Ids, join codes and token hashes: sessions, participants, API tokens and one-time links."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: The largest integer the databases store (PostgreSQL BIGINT, SQLite INTEGER): a larger id names
#: no row, and the database would refuse the number.
MAX_INT = 2**63 - 1
CODE_LENGTH = 6
# No l, o, 0 or 1: an id may be read aloud or copied by hand from an export.
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def random_id(n: int = 12) -> str:
    """A random id from an alphabet without look-alike characters."""
    # 32 letters: the low five bits of a random byte pick one without bias, in one call to the OS
    # rather than one per letter (a hall's connect storm makes a thousand at once).
    return "".join(ID_ALPHABET[b & 31] for b in secrets.token_bytes(n))


def new_code() -> str:
    """A random join code from the unambiguous alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def hash_token(token: str) -> str:
    """SHA-256 of a random token; tokens are never stored in clear."""
    # surrogatepass: a token from a socket's JSON may hold a lone surrogate; it then matches nothing.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_code(raw: object) -> str | None:
    """Upper-case a join code and drop spaces and dashes; None when it cannot be a code."""
    if not isinstance(raw, str):
        return None
    code = "".join(ch for ch in raw.upper() if ch not in " -\t")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def unique_value(conn: sa.Connection, column: sa.Column, make) -> str:
    """A value from `make()` that `column` does not hold yet."""
    for _ in range(50):
        value = make()
        if conn.execute(sa.select(column).where(column == value)).first() is None:
            return value
    raise RuntimeError("could not find a free value")  # pragma: no cover - 31^6 codes
