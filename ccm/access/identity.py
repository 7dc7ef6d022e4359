"""Who did something, as one string kept beside what they did (a version's author, a review's approver).

Four-eyes compares these strings, so every caller of the API and the web UI maps to exactly one identity,
and one person maps to one identity however they act: `user:<id>` for a user signed in with their password
and for any API key they own, `key:<id>` for a key without an owner (a system is its own identity), and
`system` for the service itself.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from ccm.access.models import ApiKey, User

SYSTEM_IDENTITY = "system"
"""The service itself (the starter-template loader): never a person, so never anyone's second pair of eyes."""
CLI_IDENTITY = "cli"
"""Whoever runs `ccm templates push` without `--as EMAIL`: like a key without an owner, its own identity."""


class SignedIn(Protocol):
    """Whoever a web page is shown to (`ccm.web.auth.Viewer`): a user, or an API key signed in with."""

    @property
    def user(self) -> User | None: ...

    @property
    def api_key(self) -> ApiKey | None: ...


def identity_of(caller: ApiKey | User | SignedIn) -> str:
    """The identity acting: the user, the owner of the key, or else the key itself."""
    if isinstance(caller, User):
        return _identity("user", caller.id)
    if isinstance(caller, ApiKey):
        if caller.owner_user_id is not None:
            return _identity("user", caller.owner_user_id)
        return _identity("key", caller.id)
    if caller.user is not None:
        return identity_of(caller.user)
    if caller.api_key is not None:
        return identity_of(caller.api_key)
    raise TypeError(f"no identity for {type(caller).__name__}: nobody is signed in")


def _identity(kind: str, row_id: int | None) -> str:
    if row_id is None:
        raise TypeError(f"no identity for an unsaved {kind}")
    return f"{kind}:{row_id}"


def identity_label(session: Session, identity: str) -> str:
    """How a history shows an identity to people: the user's email, the key's name, or the identity itself
    when its row is gone or it is `system`."""
    kind, _, row_id = identity.partition(":")
    if not row_id.isdigit() or int(row_id) >= 2**31:
        return identity
    user = session.get(User, int(row_id)) if kind == "user" else None
    api_key = session.get(ApiKey, int(row_id)) if kind == "key" else None
    if user is not None:
        return user.email
    return f"key '{api_key.name}'" if api_key is not None else identity
