"""Web UI sessions kept server-side, so signing out (or revoking the key) ends a session at once.

The browser's cookie holds a random token; `web_sessions` keeps only its SHA-256, like API keys, so the
table alone cannot sign anyone in. Each page looks the row up (one indexed query): known, not ended, not
expired, and its key not revoked.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from ccm.access.models import ApiKey, WebSession
from ccm.access.service import hash_key
from ccm.database import utcnow

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200
"""Longer cookies are refused before hashing: a genuine token is 43 characters."""


def start_session(
    session: Session, api_key_id: int, *, lifetime: timedelta, now: datetime | None = None
) -> str:
    """A new session for the key, ending after `lifetime`; the raw token is returned once, for the cookie."""
    started = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        token_hash=hash_key(token), api_key_id=api_key_id, created_at=started, expires_at=started + lifetime
    )
    session.add(row)
    session.flush()
    return token


def session_key(session: Session, token: str, *, now: datetime | None = None) -> ApiKey | None:
    """The key a live session signs in as; None for an unknown, ended or expired token or a revoked key."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    statement = (
        select(ApiKey)
        .join(WebSession, col(WebSession.api_key_id) == col(ApiKey.id))
        .where(
            col(WebSession.token_hash) == hash_key(token),
            col(WebSession.ended_at).is_(None),
            col(WebSession.expires_at) > (now or utcnow()),
            col(ApiKey.revoked_at).is_(None),
        )
    )
    return session.exec(statement).first()


def end_session(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Sign out: the row is ended, so the same cookie opens nothing even if the browser kept a copy."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    result = session.exec(
        update(WebSession)
        .where(col(WebSession.token_hash) == hash_key(token), col(WebSession.ended_at).is_(None))
        .values(ended_at=now or utcnow())
    )
    return bool(result.rowcount)


def purge_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Forget expired sessions: nothing can use them any more, and the table stays the size of its users."""
    result = session.exec(delete(WebSession).where(col(WebSession.expires_at) <= (now or utcnow())))
    return int(result.rowcount)
