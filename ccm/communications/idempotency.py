"""Idempotency-Key handling as Stripe and the IETF draft define it.

Same key + same body replays the first response; same key + another body is a 422; a key whose first
request has not committed yet is a 409. The record is written in the same transaction as the messages,
so either both exist or neither does.

Keys are scoped to the API key that sent them, as Stripe scopes them to the account: clients choose keys
on their own, so another system's choice must neither replay to us nor block our send.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ccm.communications.models import IdempotencyRecord
from ccm.database import utcnow
from ccm.errors import ApiError, Conflict, Unprocessable

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def validate_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ApiError(
            "Idempotency-Key must be 1-255 printable ASCII characters without spaces",
            field="Idempotency-Key",
            code="invalid_idempotency_key",
        )
    return key


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_SCOPED = select(IdempotencyRecord).where(
    IdempotencyRecord.api_key_id == bindparam("api_key_id"), IdempotencyRecord.key == bindparam("key")
)
"""An API key's record, built once (its cache key too): the lookup every keyed send makes."""


def replay(session: Session, key: str, body_hash: str, *, api_key_id: int | None) -> IdempotencyRecord | None:
    """The stored response for this API key's retry of the same request, or None when the key is new to
    this API key (or expired)."""
    if api_key_id is None:
        statement = select(IdempotencyRecord).where(
            col(IdempotencyRecord.api_key_id).is_(None), IdempotencyRecord.key == key
        )
        record = session.exec(statement).first()
    else:
        record = session.exec(_SCOPED, params={"api_key_id": api_key_id, "key": key}).first()
    if record is None:
        return None
    if record.expires_at <= utcnow():
        session.delete(record)
        session.flush()
        return None
    if record.request_hash != body_hash:
        raise Unprocessable(
            "Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return record


_RECORDS = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_REMEMBER = {
    dialect: insert(_RECORDS).on_conflict_do_nothing().returning(_RECORDS.c.id)
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
"""The record's `INSERT … ON CONFLICT DO NOTHING RETURNING id` per dialect, built once (values are
parameters): a statement built per send paid for its construction and cache key on every request."""


def remember(
    session: Session,
    *,
    key: str,
    body_hash: str,
    api_key_id: int | None,
    status: int,
    response: dict[str, Any],
    ttl_hours: int,
) -> None:
    """Store the response beside the messages; a concurrent twin from the same API key loses on the
    unique (api_key_id, key): one `INSERT … ON CONFLICT DO NOTHING` (no savepoint round trips), and no row
    inserted means the twin got there first."""
    now = utcnow()
    values = {
        "key": key,
        "api_key_id": api_key_id,
        "request_hash": body_hash,
        "response_status": status,
        "response_body": response,
        "created_at": now,
        "expires_at": now + timedelta(hours=ttl_hours),
    }
    connection = session.connection()
    if connection.execute(_REMEMBER[connection.dialect.name], values).first() is None:
        raise Conflict(
            "a request with this Idempotency-Key is being processed; retry shortly",
            field="Idempotency-Key",
            code="idempotency_key_in_use",
        )


def purge_expired(session: Session) -> int:
    expired = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())).all()
    for record in expired:
        session.delete(record)
    return len(expired)
