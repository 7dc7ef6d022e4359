"""Users in the service: one per email whatever its case, a password of at least 12 characters stored only
as a hash, and disabling that ends their sessions."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from ccm.access.models import Role
from ccm.access.passwords import verify_password
from ccm.access.sessions import session_signer, start_session
from ccm.access.users import create_user, disable_user, find_user, list_users
from ccm.database import session_scope
from ccm.errors import Conflict, NotFound, Unprocessable
from ccm.web.session import SESSION_LIFETIME

PASSWORD = "a-long-password-here"


def test_a_user_is_kept_with_a_lower_cased_email_and_a_hash(engine: Engine) -> None:
    with session_scope(engine) as session:
        user = create_user(session, email="  Ana@Example.COM ", role=Role.MARKETER, password=PASSWORD)
    assert user.email == "ana@example.com" and user.role == Role.MARKETER and user.disabled_at is None
    assert PASSWORD not in user.password_hash and verify_password(PASSWORD, user.password_hash)
    with session_scope(engine) as session:
        found = find_user(session, "ANA@example.com")
        assert found is not None and found.id == user.id
        assert find_user(session, "bo@example.com") is None
        assert find_user(session, "a" * 400) is None


def test_an_email_names_one_user_whatever_its_case(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, email="ana@example.com", role=Role.MARKETER, password=PASSWORD)
    with pytest.raises(Conflict) as taken, session_scope(engine) as session:
        create_user(session, email="ANA@example.com", role=Role.ADMIN, password=PASSWORD)
    assert taken.value.code == "user_exists" and "ana@example.com already exists" in taken.value.message


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("ana@example.com", "x" * 11, "weak_password"),
        ("ana@example.com", "", "weak_password"),
        ("not an email", PASSWORD, "invalid_email"),
        ("ana@", PASSWORD, "invalid_email"),
        ("a@b@example.com", PASSWORD, "invalid_email"),
        ("a" * 320 + "@example.com", PASSWORD, "invalid_email"),
    ],
)
def test_a_bad_email_or_short_password_is_refused(
    engine: Engine, email: str, password: str, code: str
) -> None:
    with pytest.raises(Unprocessable) as refused, session_scope(engine) as session:
        create_user(session, email=email, role=Role.MARKETER, password=password)
    assert refused.value.code == code
    with session_scope(engine) as session:
        assert list_users(session) == []


def test_users_are_listed_oldest_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        for email in ("b@example.com", "a@example.com"):
            create_user(session, email=email, role=Role.SENDER, password=PASSWORD)
    with session_scope(engine) as session:
        assert [user.email for user in list_users(session)] == ["b@example.com", "a@example.com"]


def test_disabling_ends_sessions_and_keeps_the_first_time(engine: Engine) -> None:
    with session_scope(engine) as session:
        user = create_user(session, email="ana@example.com", role=Role.ADMIN, password=PASSWORD)
        token = start_session(session, user_id=user.id, lifetime=SESSION_LIFETIME)
    with session_scope(engine) as session:
        first = disable_user(session, "Ana@example.com").disabled_at
    assert first is not None
    with session_scope(engine) as session:
        assert session_signer(session, token) is None
        assert disable_user(session, "ana@example.com").disabled_at == first
    with pytest.raises(NotFound) as unknown, session_scope(engine) as session:
        disable_user(session, "bo@example.com")
    assert unknown.value.code == "user_not_found"
