"""Password hashing with the standard library's scrypt, memory-hard so a stolen table is slow to guess.

A hash is stored as one self-describing string, `scrypt$<N>$<r>$<p>$<salt>$<hash>` (salt and hash in
base64), so a later change of cost parameters still verifies the passwords hashed before it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

SCHEME = "scrypt"
COST = 2**14
BLOCK_SIZE = 8
PARALLELISM = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 12
MAX_COST = 2**20
"""Stored parameters above this are refused rather than run: a forged row must not cost a gigabyte."""


class WeakPassword(ValueError):
    """A password the rules refuse; the message names the rule."""


def check_rules(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")


def _scrypt(password: str, salt: bytes, cost: int, block_size: int, parallelism: int) -> bytes:
    memory = 128 * block_size * cost * parallelism + 1024 * 1024
    return hashlib.scrypt(
        password.encode(), salt=salt, n=cost, r=block_size, p=parallelism, maxmem=memory, dklen=HASH_BYTES
    )


def hash_password(password: str) -> str:
    """The string to store for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, COST, BLOCK_SIZE, PARALLELISM)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return "$".join([SCHEME, str(COST), str(BLOCK_SIZE), str(PARALLELISM), *encoded])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash, compared in constant time; False for a malformed hash."""
    fields = stored.split("$")
    if len(fields) != 6 or fields[0] != SCHEME or not all(field.isdigit() for field in fields[1:4]):
        return False
    cost, block_size, parallelism = (int(field) for field in fields[1:4])
    if not (
        1 < cost <= MAX_COST and cost & (cost - 1) == 0 and 0 < block_size <= 32 and 0 < parallelism <= 16
    ):
        return False
    try:
        salt, expected = (base64.b64decode(field, validate=True) for field in fields[4:6])
    except ValueError:
        return False
    actual = _scrypt(password, salt, cost, block_size, parallelism)
    return hmac.compare_digest(actual, expected)


@cache
def dummy_hash() -> str:
    """A hash of no one's password, checked when an email is unknown: a wrong email then takes as long to
    refuse as a wrong password, so timing does not tell which emails have accounts."""
    return hash_password(secrets.token_urlsafe(16))
