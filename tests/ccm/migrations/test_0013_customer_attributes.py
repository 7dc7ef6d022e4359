"""Migration 0013: the `customer_attributes` table, one row per declared name, gone again on downgrade."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

INSERT = text(
    'INSERT INTO customer_attributes (name, type, "values", description, created_at)'
    " VALUES (:name, :type, :values, '', :at)"
)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_declared_attributes_table_comes_and_goes(empty_url: str) -> None:
    upgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(INSERT, {"name": "tier", "type": "enum", "values": '["gold"]', "at": utcnow()})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(INSERT, {"name": "tier", "type": "string", "values": None, "at": utcnow()})
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, type FROM customer_attributes")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("tier", "enum")]

    command.downgrade(alembic_config(empty_url), "0012")
    assert "customer_attributes" not in _tables(empty_url)
    assert "customers" in _tables(empty_url)
