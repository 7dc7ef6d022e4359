"""Password sign-in: the right email and password sign the user in; five failures for an email within a
minute refuse it for the rest of that minute, in the database, whoever asks and whether or not it exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from ccm.access.logins import FAILURE_WINDOW, MAX_FAILURES, TooManyFailures, sign_in_with_password
from ccm.access.models import LoginFailure, Role
from ccm.access.users import create_user, disable_user
from ccm.database import session_scope, utcnow

PASSWORD = "a-long-password-here"


@pytest.fixture
def user_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        user = create_user(session, email="ana@example.com", role=Role.MARKETER, password=PASSWORD)
    assert user.id is not None
    return user.id


def _failures(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.exec(select(LoginFailure.email)).all())


def test_the_right_password_signs_in_whatever_the_email_case(engine: Engine, user_id: int) -> None:
    with session_scope(engine) as session:
        user = sign_in_with_password(session, " ANA@example.com", PASSWORD)
    assert user is not None and user.id == user_id
    assert _failures(engine) == []


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.com", "a-wrong-password"), ("nobody@example.com", PASSWORD), ("ana@example.com", "")],
)
def test_a_wrong_email_or_password_signs_nobody_in_and_counts(
    engine: Engine, user_id: int, email: str, password: str
) -> None:
    with session_scope(engine) as session:
        assert sign_in_with_password(session, email, password) is None
    assert _failures(engine) == [email]


def test_five_failures_in_a_minute_refuse_even_the_right_password(engine: Engine, user_id: int) -> None:
    start = utcnow()
    for attempt in range(MAX_FAILURES):
        with session_scope(engine) as session:
            at = start + timedelta(seconds=attempt)
            assert sign_in_with_password(session, "ana@example.com", "wrong password!", now=at) is None
    with pytest.raises(TooManyFailures), session_scope(engine) as session:
        sign_in_with_password(session, "Ana@Example.com", PASSWORD, now=start + timedelta(seconds=30))
    with session_scope(engine) as session:  # another email is not held up
        assert (
            sign_in_with_password(session, "bo@example.com", "x", now=start + timedelta(seconds=30)) is None
        )
    after = start + FAILURE_WINDOW + timedelta(seconds=1)  # the first failure has left the window
    with session_scope(engine) as session:
        user = sign_in_with_password(session, "ana@example.com", PASSWORD, now=after)
    assert user is not None and user.id == user_id
    assert _failures(engine) == ["bo@example.com"]  # a success forgets the email's failures


def test_unknown_emails_are_limited_too(engine: Engine) -> None:
    start = utcnow()
    for _ in range(MAX_FAILURES):
        with session_scope(engine) as session:
            assert sign_in_with_password(session, "ghost@example.com", PASSWORD, now=start) is None
    with pytest.raises(TooManyFailures), session_scope(engine) as session:
        sign_in_with_password(session, "ghost@example.com", PASSWORD, now=start)


def test_old_failures_are_deleted_when_a_new_one_is_written(engine: Engine, user_id: int) -> None:
    long_ago = utcnow() - timedelta(hours=1)
    with session_scope(engine) as session:
        for email in ("old@example.com", "older@example.com"):
            sign_in_with_password(session, email, "nope", now=long_ago)
    assert len(_failures(engine)) == 2
    with session_scope(engine) as session:
        sign_in_with_password(session, "ana@example.com", "nope")
    assert _failures(engine) == ["ana@example.com"]


def test_a_disabled_user_cannot_sign_in(engine: Engine, user_id: int) -> None:
    with session_scope(engine) as session:
        disable_user(session, "ana@example.com")
    with session_scope(engine) as session:
        assert sign_in_with_password(session, "ana@example.com", PASSWORD) is None
    assert _failures(engine) == ["ana@example.com"]
