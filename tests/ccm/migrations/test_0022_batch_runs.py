"""Migration 0022: the batch tables and the messages' link to a run come and go; a run's line and channel
hold one message at most (the unique index a resumed run relies on)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ccm.database import make_engine
from ccm.migrate import alembic_config, upgrade

TABLES = {"batch_runs", "batch_failures", "batch_pages"}


def test_batch_tables_and_the_unique_line_come_and_go(empty_url: str) -> None:
    upgrade(empty_url, "0012")
    upgrade(empty_url, "0022")
    engine = make_engine(empty_url)
    schema = inspect(engine)
    assert set(schema.get_table_names()) >= TABLES
    assert {"batch_id", "batch_line"} <= {column["name"] for column in schema.get_columns("messages")}
    indexes = {index["name"]: index for index in schema.get_indexes("messages")}
    unique = indexes["uq_messages_batch_line"]
    assert unique["unique"] and unique["column_names"] == ["batch_id", "batch_line", "channel"]
    assert indexes["ix_messages_batch"]["column_names"] == ["batch_id", "status"]
    runs = {index["name"]: index for index in schema.get_indexes("batch_runs")}
    assert runs["ix_batch_runs_run_id"]["unique"]
    engine.dispose()

    command.downgrade(alembic_config(empty_url), "0012")
    engine = make_engine(empty_url)
    schema = inspect(engine)
    assert not TABLES & set(schema.get_table_names())
    assert "batch_id" not in {column["name"] for column in schema.get_columns("messages")}
    engine.dispose()
