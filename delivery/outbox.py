"""The embedded provider: 'delivers' by writing each message to a directory the web UI can show.

It is the default for every channel, so a fresh install sends nothing to the outside world, and it stands in
for a print provider on the PDF channel. One payload file plus one `.meta.json` per message; the meta file is
written last and marks the entry complete.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from delivery.base import (
    DeliveryResult,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    check_channel_name,
)

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# By content type, not channel: a channel the service registers later still gets a file a browser can open.
_EXTENSIONS = {
    "message/rfc822": "eml",
    "application/json": "json",
    "application/pdf": "pdf",
    "text/plain": "txt",
}
_META_SUFFIX = ".meta.json"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """What the outbox recorded about one message (the contents of its `.meta.json`)."""

    message_id: str
    channel: str
    recipient: str
    sender: str
    content_type: str
    provider_message_id: str
    accepted_at: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The meta file's JSON object."""
        return {
            "message_id": self.message_id,
            "channel": str(self.channel),
            "recipient": self.recipient,
            "sender": self.sender,
            "content_type": self.content_type,
            "provider_message_id": self.provider_message_id,
            "accepted_at": self.accepted_at.isoformat(),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutboxEntry:
        """Parse a meta file's JSON object (raises KeyError/ValueError on a malformed one)."""
        return cls(
            message_id=str(data["message_id"]),
            channel=str(data["channel"]),
            recipient=str(data["recipient"]),
            sender=str(data["sender"]),
            content_type=str(data["content_type"]),
            provider_message_id=str(data["provider_message_id"]),
            accepted_at=datetime.fromisoformat(data["accepted_at"]),
            metadata={str(k): str(v) for k, v in dict(data.get("metadata") or {}).items()},
        )


def is_safe_message_id(message_id: str) -> bool:
    """True when the id can be used as a file name inside the outbox (no separators, no leading dot)."""
    return bool(_SAFE_ID.fullmatch(message_id))


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutboxProvider:
    """Writes messages of one channel to `directory` instead of sending them."""

    def __init__(self, directory: Path, channel: str, name: str = "outbox") -> None:
        self.directory = Path(directory)
        self.channel = check_channel_name(channel)
        self.name = name
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProviderConfigurationError(f"outbox directory {self.directory} unusable: {exc}") from exc

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Record the message; a full disk is transient, an unusable message id or channel permanent."""
        if message.channel != self.channel:
            return self._result(
                Outcome.PERMANENT_ERROR, f"{self.name} handles {self.channel}, not {message.channel}"
            )
        if not is_safe_message_id(message.message_id):
            return self._result(Outcome.PERMANENT_ERROR, f"unsafe message id {message.message_id!r}")
        entry = OutboxEntry(
            message_id=message.message_id,
            channel=message.channel,
            recipient=message.recipient,
            sender=message.sender,
            content_type=message.content_type,
            provider_message_id=f"outbox-{message.message_id}",
            accepted_at=datetime.now(UTC),
            metadata=dict(message.metadata),
        )
        try:
            _write_atomically(_payload_path(self.directory, entry), message.payload)
            meta = json.dumps(entry.to_json(), ensure_ascii=False, indent=2).encode()
            _write_atomically(self.directory / f"{entry.message_id}{_META_SUFFIX}", meta)
        except OSError as exc:
            return self._result(Outcome.TRANSIENT_ERROR, f"outbox write failed: {exc}")
        return DeliveryResult(Outcome.ACCEPTED, self.name, entry.provider_message_id)

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own files."""

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def _payload_path(directory: Path, entry: OutboxEntry) -> Path:
    """Derived from the meta file alone, so a reader finds the payload without listing the directory."""
    media_type = entry.content_type.split(";")[0].strip().lower()
    return directory / f"{entry.message_id}.{_EXTENSIONS.get(media_type, 'bin')}"


def _read_entry(meta_path: Path) -> OutboxEntry | None:
    """The entry of a meta file, or None when it vanished or is not one of ours."""
    try:
        return OutboxEntry.from_json(json.loads(meta_path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _newest_first(directory: Path) -> Iterator[OutboxEntry]:
    metas: list[tuple[int, str, Path]] = []
    for path in directory.glob(f"*{_META_SUFFIX}"):
        try:
            metas.append((path.stat().st_mtime_ns, path.name, path))
        except FileNotFoundError:
            continue
    for _, _, path in sorted(metas, reverse=True):
        entry = _read_entry(path)
        if entry is not None:
            yield entry


def list_outbox(
    directory: Path, *, channel: str | None = None, limit: int = 50, offset: int = 0
) -> list[OutboxEntry]:
    """A page of outbox entries, newest first, optionally of one channel (for the web UI)."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    if not Path(directory).is_dir():
        return []
    page: list[OutboxEntry] = []
    skipped = 0
    for entry in _newest_first(Path(directory)):
        if channel is not None and entry.channel != channel:
            continue
        if skipped < offset:
            skipped += 1
            continue
        if len(page) >= limit:
            break
        page.append(entry)
    return page


def read_outbox(directory: Path, message_id: str) -> tuple[OutboxEntry, bytes]:
    """One entry and its payload bytes; KeyError when the outbox holds no such message."""
    if not is_safe_message_id(message_id):
        raise KeyError(f"no outbox entry {message_id!r}")
    entry = _read_entry(Path(directory) / f"{message_id}{_META_SUFFIX}")
    if entry is None or entry.message_id != message_id:
        raise KeyError(f"no outbox entry {message_id!r}")
    try:
        return entry, _payload_path(Path(directory), entry).read_bytes()
    except FileNotFoundError as exc:
        raise KeyError(f"outbox entry {message_id!r} has no payload file") from exc


def delete_outbox_entry(directory: Path, message_id: str) -> bool:
    """Remove a message's outbox files, so an erased customer's local copies go with their live data.

    The meta file goes first: readers then never list an entry whose payload is already gone. Every known
    payload suffix is tried, since a half-written entry may have a payload but no meta file to name it.
    Returns whether anything was removed; an unsafe id removes nothing.
    """
    if not is_safe_message_id(message_id):
        return False
    suffixes = [_META_SUFFIX, *(f".{ext}" for ext in sorted({*_EXTENSIONS.values(), "bin"}))]
    removed = False
    for suffix in suffixes:
        try:
            (Path(directory) / f"{message_id}{suffix}").unlink()
        except FileNotFoundError:
            continue
        removed = True
    return removed
