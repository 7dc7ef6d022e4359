"""Migration 0008: web sessions signed in with a key survive it, a session belongs to a key or a user (the
database refuses both or neither), and a downgrade drops users with their sessions, keeping keys'."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade


def _add_session(
    connection: Connection, token_hash: str, api_key_id: int | None, user_id: int | None
) -> None:
    now = utcnow()
    connection.execute(
        text(
            "INSERT INTO web_sessions (token_hash, api_key_id, user_id, created_at, expires_at)"
            " VALUES (:hash, :key, :user, :now, :now)"
        ),
        {"hash": token_hash, "key": api_key_id, "user": user_id, "now": now},
    )


def _sessions(url: str) -> list[tuple[str, int | None]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT token_hash, api_key_id FROM web_sessions ORDER BY id")).all()
    engine.dispose()
    return [(str(row[0]), row[1]) for row in rows]


def test_users_and_their_sessions_come_and_go(empty_url: str) -> None:
    upgrade(empty_url, "0006")
    engine = make_engine(empty_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at)"
                " VALUES (1, 'browser', 'admin', 'ccm_abcd', 'k1', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO web_sessions (token_hash, api_key_id, created_at, expires_at)"
                " VALUES ('key-session', 1, :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()

    upgrade(empty_url, "0008")
    assert _sessions(empty_url) == [("key-session", 1)]
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, role, password_hash, created_at)"
                " VALUES (1, 'ana@example.com', 'marketer', 'scrypt$...', :now)"
            ),
            {"now": now},
        )
        connection.execute(text("UPDATE api_keys SET owner_user_id = 1"))
        _add_session(connection, "user-session", None, 1)
    for key_id, user_id in ((1, 1), (None, None)):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            _add_session(connection, f"bad-{key_id}", key_id, user_id)
    duplicate = text(
        "INSERT INTO users (email, role, password_hash, created_at)"
        " VALUES ('ana@example.com', 'admin', 'x', :now)"
    )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(duplicate, {"now": now})
    engine.dispose()
    assert _sessions(empty_url) == [("key-session", 1), ("user-session", None)]

    command.downgrade(alembic_config(empty_url), "0006")
    assert _sessions(empty_url) == [("key-session", 1)]
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        tables = set(connection.dialect.get_table_names(connection))
    engine.dispose()
    assert "users" not in tables and "login_failures" not in tables
    upgrade(empty_url)  # and up again, to every head
