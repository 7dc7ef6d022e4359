"""The write and read paths of the archive, as the send pipeline and retrieval use them.

The worker calls `store_payload` (outside any transaction, it is I/O), then `record_archived_many` inside the
transaction that records the archiving and starts the hand-off (of several messages at once, when its group
commit gathered several); everything that reads archived bytes uses `read_payload`.

Each message becomes one write-once object `messages/YYYY/MM/<message id>` sealed with its customer's data
key and kept under retention; the index row records the object's version id (reads always name it) and the
record appended to the store's hash chain.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, insert
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from archive import ArchiveIntegrityError, ObjectExists, ObjectNotFound, StoredVersion, sha256_hex
from ccm.archiving import chain
from ccm.archiving.crypto import seal, unseal
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.retention import retain_until
from ccm.archiving.vault import OBJECT_PREFIX, ArchiveVault
from ccm.channels.spec import ComposableMessage
from ccm.database import utcnow

ARCHIVE_KIND = "message"
ENTRIES: Table = ArchiveEntry.__table__  # type: ignore[attr-defined]


class ArchivableMessage(ComposableMessage, Protocol):
    """What archiving records of a message besides what composing reads; an outbox row satisfies it
    (archiving sits below the outbox and takes plain values)."""

    customer_id: int
    template_version: int
    template_version_id: int
    context_sha256: str


@dataclass(frozen=True)
class SealedPayload:
    """What `store_payload` archived: the plaintext's digest and the stored (sealed) object's."""

    key: str
    version_id: str
    sha256: str
    size: int
    content_type: str
    stored_sha256: str
    retain_until: datetime
    lock_mode: str
    key_id: str
    sealed_snapshot: str


def object_key(message: ArchivableMessage) -> str:
    """One object per message, filed by month so listings stay short."""
    created = message.created_at
    return f"{OBJECT_PREFIX}{created:%Y}/{created:%m}/{message.id}"


def snapshot_of(message: ArchivableMessage, render_inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything a re-render needs besides the template version: sealed, since it is personal data.

    `render_inputs` (`ccm.channels.compose.render_inputs`) is what the bytes depended on besides the data:
    base URL, token key id, senders, PDF variant, asset digests, renderer versions. Snapshots written
    before it was recorded have none, and are re-rendered with the settings of the day.
    """
    snapshot: dict[str, Any] = {
        "context": message.context,
        "recipient": message.recipient,
        "created_at": message.created_at.isoformat(),
        "template_version_id": message.template_version_id,
    }
    if render_inputs is not None:
        snapshot["render_inputs"] = render_inputs
    return snapshot


def store_payload(
    vault: ArchiveVault,
    message: ArchivableMessage,
    payload: bytes,
    content_type: str,
    *,
    render_inputs: dict[str, Any] | None = None,
) -> SealedPayload:
    """Seal and write the exact bytes of `message` once; raises `archive.ArchiveError` when it cannot."""
    key_id, data_key = vault.keyring.data_key(message.customer_id)
    until = retain_until(
        vault.settings.archive_retention_days,
        utcnow(),
        template=message.template_key,
        category=message.category,
        channel=message.channel,
    )
    key = object_key(message)
    try:
        stored = vault.store.write_once(
            key,
            seal(data_key, payload, message.id),
            content_type="application/octet-stream",
            retain_until=until,
            mode=vault.lock_mode,
        )
    except ObjectExists:  # a crashed earlier attempt archived it: adopt it if it is these bytes
        stored = _adopt_existing(vault, key, data_key, message.id, payload)
        until = vault.store.lock_state(key, stored.version_id).retain_until or until
    snapshot = seal(data_key, chain.canonical(snapshot_of(message, render_inputs)), f"snapshot:{message.id}")
    return SealedPayload(
        key=key,
        version_id=stored.version_id,
        sha256=sha256_hex(payload),
        size=len(payload),
        content_type=content_type,
        stored_sha256=stored.sha256,
        retain_until=until,
        lock_mode=vault.lock_mode.value,
        key_id=key_id,
        sealed_snapshot=base64.b64encode(snapshot).decode("ascii"),
    )


def _adopt_existing(
    vault: ArchiveVault, key: str, data_key: bytes, message_id: str, payload: bytes
) -> StoredVersion:
    current = vault.store.current_version(key)
    if current is None:
        raise ObjectNotFound(f"{key} was reported as existing but is not there")
    sealed = vault.store.read_version(key, current.version_id)
    if unseal(data_key, sealed, message_id) != payload:
        raise ArchiveIntegrityError(f"{key} already holds different content for message {message_id}")
    return StoredVersion(key, current.version_id, sha256_hex(sealed), len(sealed))


def record_archived(
    session: Session, message: ArchivableMessage, stored: SealedPayload, store_url: str
) -> ArchiveEntry:
    """Index the archived object and append it to the store's hash chain, in the caller's transaction."""
    entry = index_entry(message, stored, store_url)
    session.add(entry)
    session.flush()  # a second archiving of the message fails here, before the chain moves
    record = chain.append(session, store_url, ARCHIVE_KIND, message.id, chain_fields(entry))
    entry.chain_seq = record.seq
    session.add(entry)
    session.flush()
    return entry


def record_archived_many(
    session: Session,
    archived: Sequence[tuple[ArchivableMessage, SealedPayload]],
    store_url: str,
    *,
    head_hint: tuple[int, str] | None = None,
) -> tuple[list[ArchiveEntry], tuple[int, str]]:
    """`record_archived` for several messages in three statements (with a right `head_hint`, see
    `chain.append_many`): the chain moves first, then one INSERT of the index rows with their positions (a
    second archiving of a message fails there, and the caller's rollback takes the chain back with it).
    Returns the entries and the chain's new head."""
    entries = [index_entry(message, stored, store_url) for message, stored in archived]
    links = [chain.Link(ARCHIVE_KIND, entry.message_id, chain_fields(entry)) for entry in entries]
    records, head = chain.append_many(session, store_url, links, head_hint=head_hint)
    for entry, record in zip(entries, records, strict=True):
        entry.chain_seq = record.seq
    session.execute(
        insert(ENTRIES),
        [entry.model_dump(exclude={"id"}) for entry in entries],
    )
    return entries, head


def index_entry(message: ArchivableMessage, stored: SealedPayload, store_url: str) -> ArchiveEntry:
    """The index row of an archived message (its chain position is set when it is appended)."""
    return ArchiveEntry(
        message_id=message.id,
        customer_id=message.customer_id,
        channel=message.channel,
        category=message.category,
        template_key=message.template_key,
        template_version=message.template_version,
        store_url=store_url,
        object_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        context_sha256=message.context_sha256,
        context={},  # the data snapshot is kept sealed (`sealed_snapshot`), never in clear
        version_id=stored.version_id,
        stored_sha256=stored.stored_sha256,
        retain_until=stored.retain_until,
        lock_mode=stored.lock_mode,
        key_id=stored.key_id,
        sealed_snapshot=stored.sealed_snapshot,
    )


def chain_fields(entry: ArchiveEntry) -> dict[str, Any]:
    """The facts about an entry that the chain vouches for (no personal data)."""
    return {
        "object_key": entry.object_key,
        "version_id": entry.version_id,
        "content_sha256": entry.sha256,
        "content_size": entry.size,
        "content_type": entry.content_type,
        "object_sha256": entry.stored_sha256,
        "context_sha256": entry.context_sha256,
        "template": entry.template_key,
        "template_version": entry.template_version,
        "category": entry.category,
        "channel": entry.channel,
        "retain_until": entry.retain_until.isoformat() if entry.retain_until else None,
    }


def read_payload(vault: ArchiveVault, entry: ArchiveEntry) -> bytes:
    """The archived bytes, checked against both recorded digests; `archive.ArchiveError` otherwise."""
    if entry.purged_at is not None:
        raise ObjectNotFound(f"message {entry.message_id} was purged at the end of its retention")
    if entry.version_id is None or entry.key_id is None:  # archived before write-once objects
        return vault.store.get(entry.object_key)
    sealed = vault.store.read_version(entry.object_key, entry.version_id)
    if sha256_hex(sealed) != entry.stored_sha256:
        raise ArchiveIntegrityError(f"archived object of {entry.message_id} does not match its SHA-256")
    session = object_session(entry)  # inside a request: reuse its transaction (SQLite has one writer)
    key = (
        vault.keyring.key_by_id(session, entry.key_id)
        if isinstance(session, Session)
        else vault.keyring.read_key(entry.key_id)
    )
    data = unseal(key, sealed, entry.message_id)
    if sha256_hex(data) != entry.sha256:
        raise ArchiveIntegrityError(f"archived content of {entry.message_id} does not match its SHA-256")
    return data


def read_snapshot(vault: ArchiveVault, session: Session, entry: ArchiveEntry) -> dict[str, Any]:
    """The sealed data snapshot (context, recipient, creation time, render inputs); `KeyDestroyed` after
    erasure."""
    if entry.sealed_snapshot is None or entry.key_id is None:
        return {"context": entry.context}
    key = vault.keyring.key_by_id(session, entry.key_id)
    opened = unseal(key, base64.b64decode(entry.sealed_snapshot), f"snapshot:{entry.message_id}")
    loaded: dict[str, Any] = json.loads(opened)
    return loaded


def find_entry(session: Session, message_id: str) -> ArchiveEntry | None:
    """The index row of a message's archived bytes, or None while it is not archived."""
    return session.exec(select(ArchiveEntry).where(ArchiveEntry.message_id == message_id)).first()
