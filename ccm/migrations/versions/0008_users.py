"""users: people who sign in with an email and a password, so that four-eyes approval counts people, not keys

`users` holds each person's lower-cased email (unique), role, scrypt password hash and when they were disabled.
An API key may name its owner (`api_keys.owner_user_id`), whose identity it then acts with. A web session
belongs to a key or to a user, never both (`ck_web_sessions_one_signer`). `login_failures` counts wrong
passwords per email over the last minute, in the database so that every process sees the same count.

It follows 0006, which created `web_sessions`. A downgrade deletes the users' web sessions, which a
key-only table cannot hold.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SIGNER = "(api_key_id IS NULL) <> (user_id IS NULL)"
KEY_OWNER_FK = "fk_api_keys_owner_user_id_users"
SESSION_USER_FK = "fk_web_sessions_user_id_users"


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """On SQLite, foreign keys unenforced while `api_keys` is rebuilt (batch mode copies it to a new table):
    dropping the old one, which other tables reference, is refused otherwise. The pragma changes only
    outside a transaction, hence the autocommit blocks (the first commits the migrations before this one,
    the second this one); the copy keeps every id, which the check afterwards confirms."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        with op.get_context().autocommit_block():
            op.execute("PRAGMA foreign_keys = ON")
    if op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("a foreign key is broken after rebuilding api_keys")


def upgrade() -> None:
    with _sqlite_foreign_keys_off():
        _upgrade()


def downgrade() -> None:
    with _sqlite_foreign_keys_off():
        _downgrade()


def _upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "at"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_owner_user_id"), ["owner_user_id"], unique=False)
        batch_op.create_foreign_key(KEY_OWNER_FK, "users", ["owner_user_id"], ["id"])
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("api_key_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(SESSION_USER_FK, "users", ["user_id"], ["id"])
        batch_op.create_check_constraint("ck_web_sessions_one_signer", ONE_SIGNER)


def _downgrade() -> None:
    op.execute("DELETE FROM web_sessions WHERE user_id IS NOT NULL")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_constraint("ck_web_sessions_one_signer", type_="check")
        batch_op.drop_constraint(SESSION_USER_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
        batch_op.alter_column("api_key_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("user_id")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(KEY_OWNER_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_keys_owner_user_id"))
        batch_op.drop_column("owner_user_id")
    op.drop_index("ix_login_failures_email_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("users")
