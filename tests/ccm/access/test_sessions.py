"""Server-side web sessions: only the token opens one, until it expires, is signed out or its key revoked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from ccm.access.models import Role, WebSession
from ccm.access.service import create_api_key, hash_key, revoke_api_key
from ccm.access.sessions import end_session, session_key, start_session
from ccm.database import make_engine, session_scope, utcnow
from ccm.engagement.tokens import TokenPurpose, TokenSigner
from ccm.web.session import SESSION_LIFETIME, csrf_token, issue_session
from tests.ccm.conftest import empty_database

LIFETIME = timedelta(hours=8)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
    empty_database(database_url)


@pytest.fixture
def key_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        api_key, _ = create_api_key(session, role=Role.MARKETER, name="browser")
    assert api_key.id is not None
    return api_key.id


def _key_of(engine: Engine, token: str, now: datetime | None = None) -> int | None:
    """The id of the key the token signs in as, or None."""
    with session_scope(engine) as session:
        api_key = session_key(session, token, now=now)
        return api_key.id if api_key is not None else None


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
