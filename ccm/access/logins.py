"""Signing a person in with email and password, with wrong guesses limited per email.

Failures are rows in `login_failures`, not counters in memory, so the limit holds across every process
serving the UI. An unknown email counts like a wrong password and is checked against a dummy hash, so
neither the answer, the limit nor the time taken tells which emails have accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from ccm.access.models import LoginFailure, User
from ccm.access.passwords import dummy_hash, verify_password
from ccm.access.users import MAX_EMAIL_LENGTH, find_user, normalise_email
from ccm.database import utcnow

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=1)


class TooManyFailures(Exception):
    """Refused without checking: the email had MAX_FAILURES wrong sign-ins within FAILURE_WINDOW."""


def sign_in_with_password(
    session: Session, email: str, password: str, *, now: datetime | None = None
) -> User | None:
    """The enabled user with this email and password, or None (and the failure is counted).

    Raises TooManyFailures once the email has failed MAX_FAILURES times within FAILURE_WINDOW.
    """
    at = now or utcnow()
    address = normalise_email(email)[:MAX_EMAIL_LENGTH]
    if recent_failures(session, address, now=at) >= MAX_FAILURES:
        raise TooManyFailures(address)
    user = find_user(session, address)
    matches = verify_password(password, user.password_hash if user is not None else dummy_hash())
    if user is None or not matches or user.disabled_at is not None:
        _record_failure(session, address, at)
        return None
    session.exec(delete(LoginFailure).where(col(LoginFailure.email) == address))
    return user


def recent_failures(session: Session, email: str, *, now: datetime) -> int:
    """How many sign-ins with this (normalised) email failed within FAILURE_WINDOW before `now`."""
    statement = select(func.count()).where(
        col(LoginFailure.email) == email, col(LoginFailure.at) > now - FAILURE_WINDOW
    )
    return int(session.exec(statement).one())


def _record_failure(session: Session, email: str, at: datetime) -> None:
    """Count one failure, and forget those too old to count for anyone (the table stays a minute long)."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) <= at - FAILURE_WINDOW))
    session.add(LoginFailure(email=email, at=at))
    session.flush()
