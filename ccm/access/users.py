"""People: creating, finding, listing and disabling users. An email names one person whatever its case, so
it is kept lower-cased and looked up the same way."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from ccm.access.models import Role, User
from ccm.access.passwords import WeakPassword, check_rules, hash_password
from ccm.access.sessions import end_user_sessions
from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable

MAX_EMAIL_LENGTH = 320
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")


def normalise_email(email: str) -> str:
    """The form an email is stored and looked up in: no surrounding spaces, lower case."""
    return email.strip().lower()


def create_user(session: Session, *, email: str, role: Role, password: str) -> User:
    """A new person who signs in with `password`; refused for a bad or taken email or a weak password."""
    address = normalise_email(email)
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.fullmatch(address):
        raise Unprocessable(f"'{email}' is not an email address", field="email", code="invalid_email")
    try:
        check_rules(password)
    except WeakPassword as weak:
        raise Unprocessable(str(weak), field="password", code="weak_password") from weak
    if find_user(session, address) is not None:
        raise Conflict(f"a user with the email {address} already exists", field="email", code="user_exists")
    user = User(email=address, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    """The user with this email (in any case), disabled or not."""
    address = normalise_email(email)
    if len(address) > MAX_EMAIL_LENGTH:
        return None
    return session.exec(select(User).where(User.email == address)).first()


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, oldest first."""
    return list(session.exec(select(User).order_by(col(User.id))))


def disable_user(session: Session, email: str, *, now: datetime | None = None) -> User:
    """Refuse the user's sign-ins from now on and end their web sessions. Disabling again keeps the first
    time. Keys they own are revoked separately (`ccm keys revoke`): a system may depend on them."""
    user = find_user(session, email)
    if user is None or user.id is None:
        raise NotFound(f"no user with the email {normalise_email(email)}", code="user_not_found")
    if user.disabled_at is None:
        user.disabled_at = now or utcnow()
        session.add(user)
        end_user_sessions(session, user.id, now=user.disabled_at)
        session.flush()
    return user
