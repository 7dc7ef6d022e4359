"""The archive on a local (or mounted) file system: write-once, read-only files named by their SHA-256.

A file appears under its key only complete and synced (hard link of a finished temp file, which also refuses
to replace an existing file), so a crash leaves at worst a stray temp file, never a truncated archive entry.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from archive.base import (
    ArchivedObject,
    ArchiveIntegrityError,
    ArchiveUnavailable,
    ObjectNotFound,
    content_key,
    digest_of_key,
    sha256_hex,
)

_READ_ONLY = 0o444


class FilesystemStore:
    """Content-addressed files under `root`: `root/sha256/ab/cd/abcd…`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.url = self.root.as_uri()

    def put(self, data: bytes, *, content_type: str) -> ArchivedObject:
        """Archive `data` once; a second put of the same bytes checks the stored copy instead of rewriting."""
        digest = sha256_hex(data)
        archived = ArchivedObject(content_key(digest), digest, len(data), content_type)
        path = self._path(archived.key)
        if path.exists():
            self._verify_existing(path, digest)
            return archived
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            created = _link_new(path, data)
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot write to archive {self.url}: {exc}") from exc
        if not created:  # a concurrent writer won the race
            self._verify_existing(path, digest)
        return archived

    def get(self, key: str) -> bytes:
        """The archived bytes, refused with `ArchiveIntegrityError` if they no longer match their key."""
        digest = digest_of_key(key)
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no archived object {key}") from exc
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot read {key} from archive {self.url}: {exc}") from exc
        if sha256_hex(data) != digest:
            raise ArchiveIntegrityError(f"archived object {key} does not match its SHA-256")
        return data

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key` (junk keys name nothing)."""
        try:
            digest_of_key(key)
        except ValueError:
            return False
        return self._path(key).is_file()

    def check(self) -> None:
        """Prove the root exists (creating it if need be) and accepts new files."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=".check-"):
                pass
        except OSError as exc:
            raise ArchiveUnavailable(f"archive root {self.root} is not writable: {exc}") from exc

    def _path(self, key: str) -> Path:
        digest_of_key(key)  # only hex digits and slashes from here on: no way out of root
        return self.root / key

    def _verify_existing(self, path: Path, digest: str) -> None:
        try:
            stored = path.read_bytes()
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot read {path} to verify it: {exc}") from exc
        if sha256_hex(stored) != digest:
            raise ArchiveIntegrityError(f"{path} exists with content that does not match its SHA-256")


def _link_new(path: Path, data: bytes) -> bool:
    """Publish `data` at `path` atomically and read-only; False when `path` already existed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _READ_ONLY)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        _fsync_directory(path.parent)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry itself durable (best effort where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
