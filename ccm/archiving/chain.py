"""Hash chains: each record's hash covers its canonical JSON body, which includes the previous hash.

Appends go through `advance_head`, whose UPDATE of the chain's head row takes a row lock on PostgreSQL (and
SQLite's write lock), so concurrent workers in any number of processes append one at a time. The same head
table serves the archive chains (one per store URL) and the audit log.

`append_many` appends several records in one go (the worker's group commit): given the head as this process
last left it, one conditional UPDATE both checks that nobody appended since and moves the head, under the
same row lock; when somebody did, it falls back to lock, read, write. The condition names the head's hash as
well as its position, so a stale hint (another process appended, or our own transaction rolled back) can
never link a record to anything but the chain's true head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.archiving.models import GENESIS, ChainHead, ChainRecord, Checkpoint
from ccm.archiving.signing import CheckpointSigner
from ccm.database import utcnow

FORMAT_VERSION = 1
HEADS: Table = ChainHead.__table__  # type: ignore[attr-defined]
RECORDS: Table = ChainRecord.__table__  # type: ignore[attr-defined]


def canonical(value: Any) -> bytes:
    """The one byte form a record is hashed in: sorted keys, no spaces, UTF-8 (documented in VERIFY.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hash_of(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def advance_head(session: Session, chain: str, count: int = 1) -> tuple[int, str]:
    """Lock the chain's head and claim the next `count` positions: (the last of them, hash of the record
    before the first)."""
    bump = (
        update(ChainHead)
        .where(col(ChainHead.chain) == chain)
        .values(seq=col(ChainHead.seq) + count, updated_at=utcnow())
        .returning(col(ChainHead.seq), col(ChainHead.head_hash))
    )
    row = session.execute(bump).first()  # one round trip: take the lock and read the head
    if row is None:
        try:
            with session.begin_nested():
                session.add(ChainHead(chain=chain, seq=count))
            return count, GENESIS
        except IntegrityError:  # another writer created it first: now queue behind its lock
            row = session.execute(bump).one()
    return int(row[0]), str(row[1])


def set_head_hash(session: Session, chain: str, record_hash: str) -> None:
    session.exec(update(ChainHead).where(col(ChainHead.chain) == chain).values(head_hash=record_hash))


def append(session: Session, chain: str, kind: str, message_id: str, fields: dict[str, Any]) -> ChainRecord:
    """Add a record to the end of `chain`; the caller's transaction commits it (or rolls all back)."""
    seq, prev = advance_head(session, chain)
    record = link_record(chain, Link(kind, message_id, fields), seq, prev, utcnow())
    session.add(record)
    set_head_hash(session, chain, record.record_hash)
    session.flush()
    return record


@dataclass(frozen=True)
class Link:
    """What a record to append says: its kind, the message it is about, the facts it vouches for."""

    kind: str
    message_id: str
    fields: dict[str, Any]


def link_record(chain: str, link: Link, seq: int, prev: str, now: datetime) -> ChainRecord:
    body = {
        **link.fields,
        "v": FORMAT_VERSION,
        "chain": chain,
        "seq": seq,
        "kind": link.kind,
        "message_id": link.message_id,
        "recorded_at": iso(now),
        "prev": prev,
    }
    return ChainRecord(
        chain=chain,
        seq=seq,
        kind=link.kind,
        message_id=link.message_id,
        body=body,
        prev_hash=prev,
        record_hash=hash_of(body),
        created_at=now,
    )


def linked(chain: str, links: Sequence[Link], first_seq: int, prev: str, now: datetime) -> list[ChainRecord]:
    """`links` as consecutive records from `first_seq`, the first linked to `prev`."""
    records = []
    for offset, link in enumerate(links):
        record = link_record(chain, link, first_seq + offset, prev, now)
        records.append(record)
        prev = record.record_hash
    return records


def append_many(
    session: Session, chain: str, links: Sequence[Link], *, head_hint: tuple[int, str] | None = None
) -> tuple[list[ChainRecord], tuple[int, str]]:
    """Append `links` in order in the caller's transaction; returns the records and the chain's new head
    (seq, hash), which the caller may pass as `head_hint` next time once its transaction committed.

    With a right hint: two statements (the conditional head UPDATE, one INSERT of all records); otherwise
    the head is locked and read first and its hash written last (three)."""
    now = utcnow()
    records: list[ChainRecord] = []
    if head_hint is not None:
        records = linked(chain, links, head_hint[0] + 1, head_hint[1], now)
        moved = session.execute(
            update(HEADS)
            .where(
                col(ChainHead.chain) == chain,
                col(ChainHead.seq) == head_hint[0],
                col(ChainHead.head_hash) == head_hint[1],
            )
            .values(seq=records[-1].seq, head_hash=records[-1].record_hash, updated_at=now)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            records = []
    if not records:
        last, prev = advance_head(session, chain, len(links))
        records = linked(chain, links, last - len(links) + 1, prev, now)
        set_head_hash(session, chain, records[-1].record_hash)
    session.execute(
        insert(RECORDS),
        [record.model_dump(exclude={"id"}) for record in records],
    )
    return records, (records[-1].seq, records[-1].record_hash)


def head(session: Session, chain: str) -> ChainHead | None:
    return session.get(ChainHead, chain, populate_existing=True)


def checkpoint_message(chain: str, seq: int, record_hash: str, signed_at: str) -> bytes:
    """The bytes a checkpoint signature covers."""
    return canonical({"chain": chain, "seq": seq, "record_hash": record_hash, "signed_at": signed_at})


def checkpoint(session: Session, chain: str, signer: CheckpointSigner) -> Checkpoint | None:
    """Sign the chain's current head unless that exact head is signed already; None for an empty chain."""
    current = head(session, chain)
    if current is None or current.seq == 0:
        return None
    latest = latest_checkpoint(session, chain)
    if latest is not None and latest.seq == current.seq and latest.record_hash == current.head_hash:
        return latest
    now = utcnow()
    message = checkpoint_message(chain, current.seq, current.head_hash, iso(now))
    signed = Checkpoint(
        chain=chain,
        seq=current.seq,
        record_hash=current.head_hash,
        signed_at=now,
        key_fingerprint=signer.fingerprint,
        signature=signer.sign(message),
    )
    session.add(signed)
    session.flush()
    return signed


def latest_checkpoint(session: Session, chain: str) -> Checkpoint | None:
    statement = (
        select(Checkpoint)
        .where(col(Checkpoint.chain) == chain)
        .order_by(col(Checkpoint.seq).desc(), col(Checkpoint.id).desc())
    )
    return session.exec(statement).first()


def checkpoints(session: Session, chain: str) -> list[Checkpoint]:
    statement = select(Checkpoint).where(col(Checkpoint.chain) == chain).order_by(col(Checkpoint.seq))
    return list(session.exec(statement))


def records(session: Session, chain: str, *, start: int = 1, end: int | None = None) -> list[ChainRecord]:
    statement = select(ChainRecord).where(col(ChainRecord.chain) == chain, col(ChainRecord.seq) >= start)
    if end is not None:
        statement = statement.where(col(ChainRecord.seq) <= end)
    return list(session.exec(statement.order_by(col(ChainRecord.seq), col(ChainRecord.id))))
