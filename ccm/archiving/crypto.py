"""Envelope encryption of archived items: one data key per customer, wrapped by the service's master key.

Every archived object and data snapshot is sealed with its customer's data key (AES-256-GCM, the message id
as associated data, so a sealed object cannot be passed off as another message's). Destroying the wrapped
key makes all of that customer's archived copies unreadable everywhere, backups included: crypto-shredding.

Sealed format: b"CCMA1" | 12-byte nonce | ciphertext and 16-byte tag.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive import ArchiveError, ArchiveIntegrityError

MAGIC = b"CCMA1"
NONCE_BYTES = 12


class KeyDestroyed(ArchiveError):
    """The customer's data key was destroyed (erasure completed): the item can no longer be read."""


def decode_key(value: str, *, name: str) -> bytes:
    """A 32-byte key from its base64 form, with an error that names the setting."""
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError(f"{name} is not valid base64") from exc
    if len(key) != 32:
        raise ValueError(f"{name} must decode to 32 bytes, not {len(key)}")
    return key


def seal(key: bytes, plaintext: bytes, associated: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, associated.encode())


def unseal(key: bytes, sealed: bytes, associated: str) -> bytes:
    """The plaintext; `ArchiveIntegrityError` when the bytes were altered or belong to another item."""
    if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + NONCE_BYTES + 16:
        raise ArchiveIntegrityError(f"not a sealed archive item ({associated})")
    nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[len(MAGIC) + NONCE_BYTES :], associated.encode())
    except InvalidTag as exc:
        raise ArchiveIntegrityError(f"sealed archive item failed authentication ({associated})") from exc


def new_data_key() -> tuple[str, bytes]:
    """A fresh key id and 32-byte data key."""
    return uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)


def wrap(master: bytes, key_id: str, data_key: bytes) -> str:
    return base64.b64encode(seal(master, data_key, f"dek:{key_id}")).decode("ascii")


def unwrap(master: bytes, key_id: str, wrapped: str) -> bytes:
    return unseal(master, base64.b64decode(wrapped), f"dek:{key_id}")


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]
