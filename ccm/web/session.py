"""Signed-in state for the web UI: the session cookie's token and the CSRF tokens bound to it.

The cookie holds only a signed `{"k": api_key_id, "exp": unix_ts}`, never the API key, so every page can
re-check that the key is still live; revoking a key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from ccm.engagement.tokens import TokenPurpose, TokenSigner

SESSION_COOKIE = "ccm_session"
LOGIN_COOKIE = "ccm_login"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600


def issue_session(tokens: TokenSigner, api_key_id: int, *, now: float | None = None) -> str:
    """A session token for `api_key_id` that expires after SESSION_SECONDS."""
    issued = time.time() if now is None else now
    return tokens.sign(TokenPurpose.SESSION, {"k": api_key_id, "exp": int(issued) + SESSION_SECONDS})


def session_key_id(tokens: TokenSigner, token: str, *, now: float | None = None) -> int | None:
    """The API key id of a genuine, unexpired session token; None for anything else."""
    payload = tokens.verify(TokenPurpose.SESSION, token)
    if payload is None:
        return None
    key_id, expires = payload.get("k"), payload.get("exp")
    if not isinstance(key_id, int) or not isinstance(expires, int) or isinstance(key_id, bool):
        return None
    return key_id if expires > (time.time() if now is None else now) else None


def csrf_token(secret: str, bound_to: str) -> str:
    """An HMAC of the session (or login nonce) token: a page from another site cannot compute it."""
    key = hmac.new(secret.encode(), b"ccm-web-csrf", hashlib.sha256).digest()
    return hmac.new(key, bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, bound_to: str, candidate: str) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return hmac.compare_digest(csrf_token(secret, bound_to).encode(), candidate.encode())
