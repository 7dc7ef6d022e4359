"""Issuing and checking API keys. Keys are random, shown once, and stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select

from ccm.access.models import ApiKey, Role

KEY_PREFIX = "ccm_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(session: Session, *, role: Role, name: str) -> tuple[ApiKey, str]:
    """A new key: the row to keep and the raw key to hand over once."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, role=role, prefix=raw_key[:12], key_hash=hash_key(raw_key))
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


def get_live_key(session: Session, key_id: int) -> ApiKey | None:
    api_key = session.get(ApiKey, key_id)
    return api_key if api_key is not None and api_key.revoked_at is None else None
