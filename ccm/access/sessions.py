"""Web UI sessions kept server-side, so signing out (or revoking the key, or disabling the user) ends a
session at once.

The browser's cookie holds a random token; `web_sessions` keeps only its SHA-256, like API keys, so the
table alone cannot sign anyone in. A session belongs to the API key or the user who signed in. Each page
looks the row up (one indexed query): known, not ended, not expired, its key not revoked, its user not
disabled.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from ccm.access.models import ApiKey, User, WebSession
from ccm.access.service import hash_key
from ccm.database import utcnow

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200
"""Longer cookies are refused before hashing: a genuine token is 43 characters."""


def start_session(
    session: Session,
    api_key_id: int | None = None,
    *,
    user_id: int | None = None,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """A new session for the key or the user (exactly one), ending after `lifetime`; the raw token is
    returned once, for the cookie."""
    if (api_key_id is None) == (user_id is None):
        raise ValueError("a web session belongs to an API key or to a user")
    started = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        token_hash=hash_key(token),
        api_key_id=api_key_id,
        user_id=user_id,
        created_at=started,
        expires_at=started + lifetime,
    )
    session.add(row)
    session.flush()
    return token


def session_signer(session: Session, token: str, *, now: datetime | None = None) -> ApiKey | User | None:
    """The key or user a live session signs in as; None for an unknown, ended or expired token, a revoked
    key or a disabled user."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    statement = (
        select(ApiKey, User)
        .select_from(WebSession)
        .outerjoin(ApiKey, col(WebSession.api_key_id) == col(ApiKey.id))
        .outerjoin(User, col(WebSession.user_id) == col(User.id))
        .where(
            col(WebSession.token_hash) == hash_key(token),
            col(WebSession.ended_at).is_(None),
            col(WebSession.expires_at) > (now or utcnow()),
        )
    )
    row = session.exec(statement).first()
    if row is None:
        return None
    api_key, user = row
    if api_key is not None:
        return api_key if api_key.revoked_at is None else None
    return user if user is not None and user.disabled_at is None else None


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


def end_user_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    """End every live session of the user, as when they are disabled."""
    session.exec(
        update(WebSession)
        .where(col(WebSession.user_id) == user_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def purge_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Forget expired sessions: nothing can use them any more, and the table stays the size of its users."""
    result = session.exec(delete(WebSession).where(col(WebSession.expires_at) <= (now or utcnow())))
    return int(result.rowcount)
