"""Stateless archive stores: exact bytes in once, back out verified, on a file system or in S3."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive.base import (
    ArchivedObject,
    ArchiveError,
    ArchiveIntegrityError,
    ArchiveStore,
    ArchiveUnavailable,
    InvalidKey,
    ObjectNotFound,
    content_key,
    digest_of_key,
    sha256_hex,
)
from archive.filesystem import FilesystemStore
from archive.s3 import S3Store
from archive.worm import (
    LockMode,
    LockState,
    ObjectExists,
    ObjectLocked,
    ObjectLockMissing,
    StoredVersion,
    WormStore,
    check_object_key,
)


def open_store(
    url: str, *, s3_endpoint_url: str | None = None, s3_region: str | None = None
) -> FilesystemStore | S3Store:
    """The store a settings URL names: `file:///abs/path`, a plain path, or `s3://bucket/prefix`."""
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        return S3Store.connect(parts.netloc, parts.path, endpoint_url=s3_endpoint_url, region=s3_region)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        return FilesystemStore(Path(unquote(parts.path)))
    if url and not parts.scheme and not parts.query and not parts.fragment:
        return FilesystemStore(Path(url))
    raise ValueError(
        f"unsupported archive URL {url!r}: use file:///absolute/path, a path, or s3://bucket/prefix"
    )


__all__ = [
    "ArchiveError",
    "ArchiveIntegrityError",
    "ArchiveStore",
    "ArchiveUnavailable",
    "ArchivedObject",
    "FilesystemStore",
    "InvalidKey",
    "LockMode",
    "LockState",
    "ObjectExists",
    "ObjectLockMissing",
    "ObjectLocked",
    "ObjectNotFound",
    "S3Store",
    "StoredVersion",
    "WormStore",
    "check_object_key",
    "content_key",
    "digest_of_key",
    "open_store",
    "sha256_hex",
]
