"""The append-only, hash-chained log of every search, view, export and change made in the archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ccm.access.models import ApiKey, User
from ccm.archiving import chain
from ccm.archiving.models import GENESIS
from ccm.compliance.models import AuditRecord
from ccm.database import utcnow

AUDIT_CHAIN = "audit"


def body_of(record: AuditRecord) -> dict[str, Any]:
    """The canonical fields an audit record's hash covers."""
    return {
        "seq": record.seq,
        "at": chain.iso(record.at),
        "actor_key_id": record.actor_key_id,
        "actor": record.actor,
        "role": record.role,
        "action": record.action,
        "query": record.query,
        "message_ids": record.message_ids,
        "prev": record.prev_hash,
    }


def log_access(
    session: Session,
    actor: ApiKey | User | None,
    action: str,
    query: dict[str, Any],
    message_ids: Sequence[str],
    *,
    anonymous: str = "system",
) -> AuditRecord:
    """Append one audit record in the caller's transaction (so it commits with what it describes).

    A user (signed in to the web UI with a password) is named by their email, a key by its name and id.
    Without either, `anonymous` names the actor and role: a job ("system") or a customer's signed link.
    """
    seq, prev = chain.advance_head(session, AUDIT_CHAIN)
    record = AuditRecord(
        seq=seq,
        at=utcnow(),
        actor_key_id=actor.id if isinstance(actor, ApiKey) else None,
        actor=(actor.email if isinstance(actor, User) else actor.name) if actor else anonymous,
        role=str(actor.role) if actor else anonymous,
        action=action,
        query={k: v for k, v in query.items() if v not in (None, "")},
        message_ids=list(message_ids),
        prev_hash=prev,
        record_hash="",
    )
    record.record_hash = chain.hash_of(body_of(record))
    session.add(record)
    chain.set_head_hash(session, AUDIT_CHAIN, record.record_hash)
    session.flush()
    return record


def list_records(
    session: Session, *, action: str | None = None, limit: int = 50, offset: int = 0
) -> list[AuditRecord]:
    statement = select(AuditRecord)
    if action:
        statement = statement.where(col(AuditRecord.action) == action)
    statement = statement.order_by(col(AuditRecord.seq).desc()).limit(limit).offset(offset)
    return list(session.exec(statement))


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str


def verify_log(session: Session) -> tuple[int, list[AuditProblem]]:
    """Walk the log: every hash recomputes, every link points at its predecessor, the head matches."""
    records = list(session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))))
    problems: list[AuditProblem] = []
    prev, expected = GENESIS, 1
    for record in records:
        if record.seq != expected:
            problems.append(AuditProblem(record.seq, f"expected record {expected}: records missing"))
        if record.prev_hash != prev:
            problems.append(AuditProblem(record.seq, "does not link to the previous record"))
        if chain.hash_of(body_of(record)) != record.record_hash:
            problems.append(AuditProblem(record.seq, "altered: its hash does not match its content"))
        prev, expected = record.record_hash, record.seq + 1
    head = chain.head(session, AUDIT_CHAIN)
    if head is not None and (head.seq != expected - 1 or head.head_hash != prev):
        problems.append(AuditProblem(head.seq, "the log ends before its recorded head: records removed"))
    return len(records), problems
