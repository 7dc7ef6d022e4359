"""Server-side web sessions: only the token opens one, until it expires, is signed out, its key revoked or
its user disabled."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from ccm.access.models import ApiKey, Role, User, WebSession
from ccm.access.service import create_api_key, hash_key, revoke_api_key
from ccm.access.sessions import end_session, session_signer, start_session
from ccm.access.users import create_user, disable_user
from ccm.database import session_scope, utcnow
from ccm.engagement.tokens import TokenPurpose, TokenSigner
from ccm.web.session import SESSION_LIFETIME, csrf_token, issue_session

LIFETIME = timedelta(hours=8)


@pytest.fixture
def key_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        api_key, _ = create_api_key(session, role=Role.MARKETER, name="browser")
    assert api_key.id is not None
    return api_key.id


def _key_of(engine: Engine, token: str, now: datetime | None = None) -> int | None:
    """The id of the key the token signs in as, or None."""
    with session_scope(engine) as session:
        signer = session_signer(session, token, now=now)
        assert not isinstance(signer, User)
        return signer.id if signer is not None else None


def test_a_session_opens_until_it_expires(engine: Engine, key_id: int) -> None:
    start = utcnow()
    with session_scope(engine) as session:
        token = start_session(session, key_id, lifetime=LIFETIME, now=start)
    assert _key_of(engine, token, now=start + LIFETIME - timedelta(seconds=1)) == key_id
    assert _key_of(engine, token, now=start + LIFETIME) is None
    assert _key_of(engine, token) == key_id


def test_only_the_token_itself_opens_it(engine: Engine, key_id: int) -> None:
    with session_scope(engine) as session:
        token = start_session(session, key_id, lifetime=LIFETIME)
    signer = TokenSigner("unit-secret")
    impostors = [
        "",
        token + "x",
        token.upper(),
        hash_key(token),  # what the table holds: a copy of the database signs nobody in
        csrf_token("unit-secret", token),  # the page's CSRF token is not the cookie
        signer.sign(TokenPurpose.SESSION, {"k": key_id, "exp": 10**10}),  # the old stateless cookie
        signer.sign(TokenPurpose.CLICK, {"k": key_id}),
        "a" * 5000,
    ]
    assert [_key_of(engine, impostor) for impostor in impostors] == [None] * len(impostors)
    assert _key_of(engine, token) == key_id


def test_signing_out_ends_it_at_once_and_only_it(engine: Engine, key_id: int) -> None:
    with session_scope(engine) as session:
        token = start_session(session, key_id, lifetime=LIFETIME)
        other = start_session(session, key_id, lifetime=LIFETIME)
    with session_scope(engine) as session:
        assert end_session(session, token)
    assert _key_of(engine, token) is None
    assert _key_of(engine, other) == key_id  # the same key signed in elsewhere stays signed in
    with session_scope(engine) as session:
        assert not end_session(session, token)  # signing out twice is harmless
        assert not end_session(session, "")


def test_revoking_the_key_ends_its_sessions(engine: Engine, key_id: int) -> None:
    with session_scope(engine) as session:
        token = start_session(session, key_id, lifetime=LIFETIME)
    with session_scope(engine) as session:
        first = revoke_api_key(session, key_id).revoked_at
    assert _key_of(engine, token) is None
    with session_scope(engine) as session:
        assert revoke_api_key(session, key_id).revoked_at == first  # again: harmless, first time kept
        row = session.exec(select(WebSession).where(WebSession.api_key_id == key_id)).one()
        assert row.ended_at == first


def test_signing_in_clears_expired_sessions(engine: Engine, key_id: int) -> None:
    start = utcnow()
    with session_scope(engine) as session:
        stale = issue_session(session, key_id, now=start - SESSION_LIFETIME - timedelta(seconds=1))
        live = issue_session(session, key_id, now=start - timedelta(hours=1))
        fresh = issue_session(session, key_id, now=start)
    with session_scope(engine) as session:
        kept = set(session.exec(select(WebSession.token_hash)).all())
    assert kept == {hash_key(live), hash_key(fresh)} and hash_key(stale) not in kept


def test_a_user_session_opens_as_the_user_until_they_are_disabled(engine: Engine, key_id: int) -> None:
    with session_scope(engine) as session:
        user = create_user(session, email="ana@example.com", role=Role.MARKETER, password="p" * 12)
        token = start_session(session, user_id=user.id, lifetime=LIFETIME)
        other = start_session(session, key_id, lifetime=LIFETIME)
    with session_scope(engine) as session:
        signer = session_signer(session, token)
        assert isinstance(signer, User) and signer.email == "ana@example.com"
        disable_user(session, "Ana@Example.com")
    with session_scope(engine) as session:
        assert session_signer(session, token) is None
        row = session.exec(select(WebSession).where(WebSession.token_hash == hash_key(token))).one()
        assert row.ended_at is not None  # ended, not merely refused
        assert isinstance(session_signer(session, other), ApiKey)  # a key's session is not the user's


def test_a_disabled_user_is_refused_even_with_a_live_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        user = create_user(session, email="bo@example.com", role=Role.ADMIN, password="p" * 12)
        token = start_session(session, user_id=user.id, lifetime=LIFETIME)
        user.disabled_at = utcnow()  # disabled without ending the sessions (by hand, say)
        session.add(user)
    with session_scope(engine) as session:
        assert session_signer(session, token) is None


def test_a_session_belongs_to_a_key_or_a_user(engine: Engine, key_id: int) -> None:
    with session_scope(engine) as session:
        user = create_user(session, email="cy@example.com", role=Role.ADMIN, password="p" * 12)
        with pytest.raises(ValueError):
            start_session(session, lifetime=LIFETIME)
        with pytest.raises(ValueError):
            start_session(session, key_id, user_id=user.id, lifetime=LIFETIME)
