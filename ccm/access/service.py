"""Issuing, checking, listing and revoking API keys. Keys are random, shown once, and stored only as a
SHA-256 hash; revoking one refuses it at once everywhere (API and web sessions alike)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from ccm.access.models import ApiKey, Role, User, WebSession
from ccm.database import utcnow
from ccm.errors import NotFound

KEY_PREFIX = "ccm_"
SHOWN_PREFIX_LENGTH = 8
"""How much of a key lists show: enough to tell keys apart (`ccm_` and four random characters), too
little to help guess one."""


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(
    session: Session, *, role: Role, name: str, owner_user_id: int | None = None
) -> tuple[ApiKey, str]:
    """A new key: the row to keep and the raw key to hand over once. A key with an owner acts as that
    person (`ccm.access.identity`); one without is a system of its own."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name, role=role, prefix=raw_key[:12], key_hash=hash_key(raw_key), owner_user_id=owner_user_id
    )
    session.add(api_key)
    session.flush()
    return api_key, raw_key


def authenticate(session: Session, raw_key: str) -> ApiKey | None:
    """The live key matching `raw_key`, compared by hash so the raw key is never stored or logged."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key))).first()
    if api_key is None or api_key.revoked_at is not None:
        return None
    return api_key


def shown_prefix(api_key: ApiKey) -> str:
    """The start of the key as lists show it, so an operator can match a key they hold to its row."""
    return api_key.prefix[:SHOWN_PREFIX_LENGTH]


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included (a revoked key is history worth seeing), oldest first."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def owner_emails(session: Session, keys: list[ApiKey]) -> dict[int, str]:
    """Each owned key's person's email by user id, in one query, so key lists say whose keys are whose."""
    owner_ids = {key.owner_user_id for key in keys if key.owner_user_id is not None}
    if not owner_ids:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(owner_ids))).all()
    return {user.id: user.email for user in users if user.id is not None}


def revoke_api_key(session: Session, key_id: int, *, now: datetime | None = None) -> ApiKey:
    """Refuse the key from now on and end its web sessions. Revoking again keeps the first time."""
    api_key = session.get(ApiKey, key_id) if 0 < key_id < 2**31 else None  # ids beyond INTEGER exist nowhere
    if api_key is None:
        raise NotFound(f"API key {key_id} not found", code="key_not_found")
    if api_key.revoked_at is None:
        api_key.revoked_at = now or utcnow()
        session.add(api_key)
        session.exec(
            update(WebSession)
            .where(col(WebSession.api_key_id) == key_id, col(WebSession.ended_at).is_(None))
            .values(ended_at=api_key.revoked_at)
        )
        session.flush()
    return api_key
