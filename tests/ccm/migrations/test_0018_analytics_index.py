"""Migration 0018: the analytics index of events by type and time comes and goes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ccm.database import make_engine
from ccm.migrate import alembic_config, upgrade


def event_indexes(url: str) -> dict[str, list[str | None]]:
    engine = make_engine(url)
    try:
        return {index["name"] or "": index["column_names"] for index in inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()


def test_the_events_type_time_index_comes_and_goes(empty_url: str) -> None:
    upgrade(empty_url, "0018")
    assert event_indexes(empty_url)["ix_events_type_time"] == ["type", "occurred_at"]

    command.downgrade(alembic_config(empty_url), "0012")
    assert "ix_events_type_time" not in event_indexes(empty_url)
