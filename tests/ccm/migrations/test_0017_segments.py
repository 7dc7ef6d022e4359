"""Migration 0017: the segments table takes a row, refuses a second of the same key, and goes on downgrade."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

INSERT = text(
    "INSERT INTO segments (key, name, description, rule, created_at, updated_at)"
    " VALUES ('vip', 'VIP', '', '{\"all\": []}', :at, :at)"
)


def test_segments_table_comes_and_goes(empty_url: str) -> None:
    upgrade(empty_url, "0017")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(INSERT, {"at": utcnow()})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(INSERT, {"at": utcnow()})
    with engine.begin() as connection:
        keys = connection.execute(text("SELECT key FROM segments")).scalars().all()
    engine.dispose()
    assert keys == ["vip"]

    command.downgrade(alembic_config(empty_url), "0012")
    engine = make_engine(empty_url)
    assert "segments" not in inspect(engine).get_table_names()
    engine.dispose()
