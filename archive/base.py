"""The archive store interface: put exact bytes once, get them back unchanged, years later.

Stores are content-addressed by SHA-256, so a key names exactly one content and a later write can never
replace what an earlier one archived.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ArchivedObject:
    """Where archived bytes live and the digest that proves them."""

    key: str
    sha256: str
    size: int
    content_type: str


class ArchiveError(Exception):
    """The store could not do what was asked; the caller must not treat the bytes as archived."""


class ArchiveUnavailable(ArchiveError):
    """The store is unreachable right now; retry later."""


class ArchiveIntegrityError(ArchiveError):
    """Stored bytes do not match their digest, or a write would replace different content."""


class ObjectNotFound(ArchiveError):
    """No object under that key."""


class InvalidKey(ObjectNotFound, ValueError):
    """A key that cannot name any archived object (not a content key, or an attempt at path traversal)."""


_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(digest: str) -> str:
    """The key of content with this SHA-256: fanned out by its first bytes to keep directories small."""
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def digest_of_key(key: str) -> str:
    """The SHA-256 a content key names; `InvalidKey` for anything `content_key` could not have produced."""
    match = _CONTENT_KEY.fullmatch(key)
    if match is None or not match[3].startswith(match[1] + match[2]):
        raise InvalidKey(f"not an archive content key: {key[:120]!r}")
    return match[3]


@runtime_checkable
class ArchiveStore(Protocol):
    url: str

    def put(self, data: bytes, *, content_type: str) -> ArchivedObject:
        """Store `data` under its content key; storing identical content again is a no-op."""
        ...

    def get(self, key: str) -> bytes:
        """The stored bytes, checked against the digest in their key."""
        ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise `ArchiveUnavailable` when the store cannot be written to (used by /health)."""
        ...
