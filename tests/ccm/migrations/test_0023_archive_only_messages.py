"""Migration 0023: `messages.archive_only` comes (not null, false by default, so rows already queued are sent
as before) and goes."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect

from ccm.database import make_engine
from ccm.migrate import alembic_config, upgrade


def message_columns(url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    try:
        return {str(column["name"]): dict(column) for column in inspect(engine).get_columns("messages")}
    finally:
        engine.dispose()


def test_archive_only_defaults_to_false_and_goes_on_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0023")
    column = message_columns(empty_url)["archive_only"]
    assert column["nullable"] is False
    assert str(column["default"]).strip("'()").lower() in {"false", "0"}

    command.downgrade(alembic_config(empty_url), "0012")
    assert "archive_only" not in message_columns(empty_url)
