"""The archive on a local (or mounted) file system: write-once, read-only files named by their SHA-256.

A file appears under its key only complete and synced (hard link of a finished temp file, which also refuses
to replace an existing file), so a crash leaves at worst a stray temp file, never a truncated archive entry.

The write-once objects of `archive.worm` get the guarantees a file system can give, and no more: a name is
never reused (the hard link refuses), files are read-only (0444), and the retention date and legal hold are
recorded beside each object (`.retention/<key>.json`) and honoured by `delete_version`. Anyone with write
access to the directory can still remove files; only the hash chain kept by the service detects that. Use
S3 with Object Lock where deletion must be impossible rather than merely detected.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.base import (
    ArchivedObject,
    ArchiveIntegrityError,
    ArchiveUnavailable,
    InvalidKey,
    ObjectNotFound,
    content_key,
    digest_of_key,
    sha256_hex,
)
from archive.worm import (
    LockMode,
    LockState,
    ObjectExists,
    ObjectLocked,
    StoredVersion,
    check_object_key,
)

_READ_ONLY = 0o444
_RETENTION_DIR = ".retention"


def _now() -> datetime:
    return datetime.now(UTC)


class FilesystemStore:
    """Content-addressed files under `root`: `root/sha256/ab/cd/abcd…`."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime] = _now) -> None:
        self.root = Path(root).absolute()
        self.url = self.root.as_uri()
        self.clock = clock

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

    def write_once(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime, mode: LockMode
    ) -> StoredVersion:
        """A new read-only file at `key` (refused if the name exists) with its retention recorded first."""
        path = self._object_path(key)
        digest = sha256_hex(data)
        lock = {"mode": mode.value, "retain_until": retain_until.isoformat(), "legal_hold": False}
        lock.update(content_type=content_type, sha256=digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                raise ObjectExists(f"{key} is already archived")
            self._write_lock(key, lock)  # before the object: a crash in between leaves no unretained file
            if not _link_new(path, data):
                raise ObjectExists(f"{key} is already archived")
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot write {key} to archive {self.url}: {exc}") from exc
        return StoredVersion(key, digest, digest, len(data))

    def current_version(self, key: str) -> StoredVersion | None:
        """A file system keeps one version: the file's own digest names it."""
        path = self._object_path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot read {key}: {exc}") from exc
        digest = sha256_hex(data)
        return StoredVersion(key, digest, digest, len(data))

    def read_version(self, key: str, version_id: str) -> bytes:
        """The file's bytes; the caller compares them with the digest it recorded (the version id)."""
        del version_id  # one version per name; a mismatch is the caller's evidence of tampering
        try:
            return self._object_path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no archived object {key}") from exc
        except OSError as exc:
            raise ArchiveUnavailable(f"cannot read {key} from archive {self.url}: {exc}") from exc

    def lock_state(self, key: str, version_id: str) -> LockState:
        lock = self._read_lock(key)
        until = lock.get("retain_until")
        return LockState(
            lock.get("mode"), datetime.fromisoformat(until) if until else None, bool(lock.get("legal_hold"))
        )

    def set_legal_hold(self, key: str, version_id: str, *, on: bool) -> None:
        if not self._object_path(key).exists():
            raise ObjectNotFound(f"no archived object {key}")
        lock = self._read_lock(key)
        lock["legal_hold"] = on
        self._write_lock(key, lock)

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove the file once its retention has passed and no legal hold is set."""
        path = self._object_path(key)
        if not path.exists():
            raise ObjectNotFound(f"no archived object {key}")
        state = self.lock_state(key, version_id)
        if state.legal_hold:
            raise ObjectLocked(f"{key} is under legal hold")
        if state.retain_until is not None and state.retain_until > self.clock():
            raise ObjectLocked(f"{key} is retained until {state.retain_until.isoformat()}")
        path.unlink()
        self._lock_path(key).unlink(missing_ok=True)

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Object files under `prefix` (temp files, the retention records and content keys excluded)."""
        base = self.root / prefix.strip("/")
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def _object_path(self, key: str) -> Path:
        check_object_key(key)
        if key.split("/", 1)[0] in ("sha256", _RETENTION_DIR):
            raise InvalidKey(f"reserved archive key: {key[:120]!r}")
        return self.root / key

    def _lock_path(self, key: str) -> Path:
        return self.root / _RETENTION_DIR / f"{key}.json"

    def _read_lock(self, key: str) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self._lock_path(key).read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ArchiveUnavailable(f"cannot read the retention record of {key}: {exc}") from exc
        return loaded

    def _write_lock(self, key: str, lock: dict[str, Any]) -> None:
        path = self._lock_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            json.dump(lock, handle, sort_keys=True)
        os.replace(tmp, path)

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
