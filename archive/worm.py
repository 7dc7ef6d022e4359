"""Write-once, version-addressed objects with retention and legal hold: what a compliance archive needs.

Unlike the content-addressed `put`/`get` of `archive.base`, these objects are named by the caller (one per
message), written at most once, kept under a retention date and optionally a legal hold, and always read
back by the version id the write returned, so even a store that keeps versions can never hand back a later
write in place of the archived one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from archive.base import ArchiveError, ArchiveIntegrityError, InvalidKey

_OBJECT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,8}")


class LockMode(StrEnum):
    """S3 Object Lock modes: COMPLIANCE cannot be lifted by anyone; GOVERNANCE by a privileged bypass."""

    COMPLIANCE = "COMPLIANCE"
    GOVERNANCE = "GOVERNANCE"


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One immutable version of a named object, and the digest of its bytes."""

    key: str
    version_id: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class LockState:
    """What currently protects a version from deletion."""

    mode: str | None
    retain_until: datetime | None
    legal_hold: bool


class ObjectExists(ArchiveIntegrityError):
    """The key already holds an object: archived versions are never replaced."""


class ObjectLocked(ArchiveError):
    """Retention or a legal hold forbids deleting this version (yet)."""


class ObjectLockMissing(ArchiveError):
    """The store cannot enforce retention (an S3 bucket without Object Lock)."""


def check_object_key(key: str) -> str:
    """`key` when it is a plain relative name (no `..`, no leading slash); `InvalidKey` otherwise."""
    if not _OBJECT_KEY.fullmatch(key) or ".." in key.split("/"):
        raise InvalidKey(f"not an archive object key: {key[:120]!r}")
    return key


@runtime_checkable
class WormStore(Protocol):
    """The write-once operations both stores implement."""

    url: str

    def write_once(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime, mode: LockMode
    ) -> StoredVersion:
        """Create `key` with retention; `ObjectExists` if anything is stored under it already."""
        ...

    def current_version(self, key: str) -> StoredVersion | None:
        """The version `key` currently names (None when absent): to recover after a conflicting write."""
        ...

    def read_version(self, key: str, version_id: str) -> bytes:
        """The bytes of exactly that version; `ObjectNotFound` when it is gone."""
        ...

    def lock_state(self, key: str, version_id: str) -> LockState: ...

    def set_legal_hold(self, key: str, version_id: str, *, on: bool) -> None: ...

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove that version for good; `ObjectLocked` while retention or a legal hold protects it."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (to find objects the index does not know about)."""
        ...

    def check(self) -> None: ...
