"""The write and read paths of the archive, as the send pipeline and retrieval use them.

The worker calls `store_payload` (outside any transaction, it is I/O), then `record_archived` inside the
transaction that moves the message to `archived`; everything that reads archived bytes uses `read_payload`.
"""

from __future__ import annotations

from sqlmodel import Session

from archive import ArchivedObject, ArchiveStore
from ccm.communications.models import Message
from ccm.compliance.models import ArchiveEntry


def store_payload(store: ArchiveStore, message: Message, payload: bytes, content_type: str) -> ArchivedObject:
    """Put the exact bytes of `message` in the store; raises `archive.ArchiveError` when it cannot."""
    del message  # the object is content-addressed; the message is linked in the index row
    return store.put(payload, content_type=content_type)


def record_archived(
    session: Session, message: Message, stored: ArchivedObject, store_url: str
) -> ArchiveEntry:
    entry = ArchiveEntry(
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
        context=message.context,
    )
    session.add(entry)
    session.flush()
    return entry


def read_payload(store: ArchiveStore, entry: ArchiveEntry) -> bytes:
    """The archived bytes, verified against their SHA-256 by the store."""
    return store.get(entry.object_key)
