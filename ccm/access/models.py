"""People (users, who sign in with a password), API keys (only a hash is stored; the key itself is shown
once), the web UI's server-side sessions, and the failed sign-ins that slow down password guessing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from ccm.database import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    SENDER = "sender"
    COMPLIANCE = "compliance"


class User(SQLModel, table=True):
    """A person. Approval counts people, so everything they do, through the web UI or an API key they own,
    is theirs. `email` is kept lower-case, which makes its unique constraint case-insensitive."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    role: Role = Field(sa_column=Column(String(20), nullable=False))
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A key for a system, or for a person's scripts when `owner_user_id` names them."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_column=Column(String(20), nullable=False))
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)


ONE_SIGNER = "(api_key_id IS NULL) <> (user_id IS NULL)"


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token and this row only its hash, so a stolen
    database cannot sign anyone in, and signing out (setting `ended_at`) ends the session at once. It belongs
    to an API key (signed in with the key) or to a user (signed in with a password), never both."""

    __tablename__ = "web_sessions"
    __table_args__ = (CheckConstraint(ONE_SIGNER, name="ck_web_sessions_one_signer"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    api_key_id: int | None = Field(default=None, foreign_key="api_keys.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One wrong password (or unknown email) at sign-in. Counted per email over the last minute to refuse
    guessing; kept in the database, so every process counts the same failures. Rows older than the window
    are deleted whenever a new one is written."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
