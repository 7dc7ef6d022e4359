"""Lawful deletion: remove what is past retention and not on hold, leaving a tombstone in the chain.

Each purge runs in one transaction: tombstone appended and entry marked, then the object deleted, then the
commit; if the store refuses (still retained, legal hold), the transaction rolls back and nothing changes.
When a customer whose erasure was requested has no live archived item left, their data key is destroyed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from archive import ArchiveError, ObjectNotFound
from ccm.archiving import chain, keyring
from ccm.archiving.models import ArchiveEntry, CustomerKey
from ccm.archiving.vault import ArchiveVault
from ccm.database import session_scope, utcnow

logger = logging.getLogger(__name__)
TOMBSTONE_KIND = "tombstone"


@dataclass
class PurgeResult:
    purged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    keys_destroyed: list[int] = field(default_factory=list)


def due_for_purge(session: Session, store_url: str, now: datetime, limit: int = 500) -> list[str]:
    statement = (
        select(ArchiveEntry.message_id)
        .where(
            col(ArchiveEntry.store_url) == store_url,
            col(ArchiveEntry.retain_until) <= now,
            col(ArchiveEntry.legal_hold).is_(False),
            col(ArchiveEntry.purged_at).is_(None),
            col(ArchiveEntry.chain_seq).is_not(None),
        )
        .order_by(col(ArchiveEntry.retain_until))
        .limit(limit)
    )
    return list(session.exec(statement))


def purge_expired(engine: Engine, vault: ArchiveVault, *, now: datetime | None = None) -> PurgeResult:
    """Delete every expired, unheld item (one transaction each) and complete pending erasures."""
    now = now or utcnow()
    result = PurgeResult()
    with Session(engine) as session:
        due = due_for_purge(session, vault.url, now)
    for message_id in due:
        try:
            with session_scope(engine) as session:
                _purge_one(session, vault, message_id, now)
            result.purged.append(message_id)
        except ArchiveError as error:  # retained, held, gone or unreachable: try again next run
            logger.warning("store refused to purge %s: %s", message_id, error)
            result.refused.append(message_id)
    with session_scope(engine) as session:
        result.keys_destroyed = complete_erasures(session)
        if result.purged:
            chain.checkpoint(session, vault.url, vault.signer)
    return result


def _purge_one(session: Session, vault: ArchiveVault, message_id: str, now: datetime) -> None:
    entry = session.exec(select(ArchiveEntry).where(col(ArchiveEntry.message_id) == message_id)).one()
    if entry.legal_hold or entry.purged_at is not None or entry.version_id is None:
        return
    chain.append(
        session,
        vault.url,
        TOMBSTONE_KIND,
        message_id,
        {
            "target_seq": entry.chain_seq,
            "object_key": entry.object_key,
            "version_id": entry.version_id,
            "reason": "retention expired",
            "retain_until": entry.retain_until.isoformat() if entry.retain_until else None,
        },
    )
    entry.purged_at = now
    session.add(entry)
    session.flush()
    try:
        vault.store.delete_version(entry.object_key, entry.version_id)
    except ObjectNotFound:
        raise ArchiveError(f"object of {message_id} is already gone: verify will report it") from None


def complete_erasures(session: Session) -> list[int]:
    """Destroy the data keys of erased customers whose last archived item has been purged."""
    pending = session.exec(
        select(CustomerKey).where(
            col(CustomerKey.erasure_requested_at).is_not(None), col(CustomerKey.destroyed_at).is_(None)
        )
    ).all()
    destroyed = []
    for key in pending:
        if live_items(session, key.customer_id) == 0 and keyring.destroy(session, key.customer_id):
            destroyed.append(key.customer_id)
    return destroyed


def live_items(session: Session, customer_id: int) -> int:
    rows = session.exec(
        select(ArchiveEntry.id).where(
            col(ArchiveEntry.customer_id) == customer_id, col(ArchiveEntry.purged_at).is_(None)
        )
    ).all()
    return len(rows)
