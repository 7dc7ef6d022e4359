"""Migration 0014: topics, consents and their history get their tables and templates a topic; existing
templates name none, and a downgrade takes it all away again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

TABLES = {"topics", "consents", "consent_events"}


def test_templates_name_no_topic_until_told_and_back(empty_url: str) -> None:
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO templates (id, key, name, category, description, created_at, updated_at)"
                " VALUES (1, 't', 'T', 'marketing', '', :now, :now)"
            ),
            {"now": utcnow()},
        )

    upgrade(empty_url, "0014")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT topic FROM templates")).scalar_one() is None
        connection.execute(
            text(
                "INSERT INTO customers (id, external_id, locale, timezone, attributes, created_at,"
                " updated_at) VALUES (1, 'c', 'en', 'UTC', '{}', :now, :now)"
            ),
            {"now": utcnow()},
        )
        row = {"now": utcnow()}
        connection.execute(
            text(
                "INSERT INTO consents (customer_id, channel, topic, state, source, updated_at)"
                " VALUES (1, 'email', 'news', 'revoked', 'api', :now)"
            ),
            row,
        )
        with pytest.raises(IntegrityError), connection.begin_nested():  # one current state per key
            connection.execute(
                text(
                    "INSERT INTO consents (customer_id, channel, topic, state, source, updated_at)"
                    " VALUES (1, 'email', 'news', 'granted', 'api', :now)"
                ),
                row,
            )
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()

    command.downgrade(alembic_config(empty_url), "0012")
    engine = make_engine(empty_url)
    assert not TABLES & set(inspect(engine).get_table_names())
    assert "topic" not in {column["name"] for column in inspect(engine).get_columns("templates")}
    engine.dispose()
