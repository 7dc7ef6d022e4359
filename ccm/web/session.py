"""Signed-in state for the web UI: the session cookie, its server-side row, and the CSRF tokens bound to it.

The cookie holds a random token, never the API key or password; the row it names (`ccm.access.sessions`) is
checked on every page, so signing out, revoking the key or disabling the user ends the session at once, not
when the cookie expires.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlmodel import Session

from ccm.access.sessions import purge_sessions, start_session

SESSION_COOKIE = "ccm_session"
LOGIN_COOKIE = "ccm_login"
COOKIE_PATH = "/ui"
SESSION_LIFETIME = timedelta(hours=8)
SESSION_SECONDS = int(SESSION_LIFETIME.total_seconds())


def issue_session(
    session: Session,
    api_key_id: int | None = None,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A session for the key or the user ending after SESSION_LIFETIME; the cookie's token (shown only now).

    Expired rows are cleared on the way: sign-ins are rare enough that this costs nothing, and no job is
    needed to keep the table small.
    """
    purge_sessions(session, now=now)
    return start_session(session, api_key_id, user_id=user_id, lifetime=SESSION_LIFETIME, now=now)


def csrf_token(secret: str, bound_to: str) -> str:
    """An HMAC of the session (or login nonce) token: a page from another site cannot compute it."""
    key = hmac.new(secret.encode(), b"ccm-web-csrf", hashlib.sha256).digest()
    return hmac.new(key, bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, bound_to: str, candidate: str) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return hmac.compare_digest(csrf_token(secret, bound_to).encode(), candidate.encode())
