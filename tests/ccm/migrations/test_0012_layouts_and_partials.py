"""Migration 0012: layouts and partials get their tables, template versions their pins; versions saved
before pin nothing, and a downgrade takes it all away again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

TABLES = {"library_items", "library_versions", "library_transitions"}


def test_versions_saved_before_pin_nothing_and_back(empty_url: str) -> None:
    upgrade(empty_url, "0009")
    upgrade(empty_url, "0010")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO templates (id, key, name, category, description, created_at, updated_at)"
                " VALUES (1, 't', 'T', 'marketing', '', :now, :now)"
            ),
            {"now": utcnow()},
        )
        connection.execute(
            text(
                "INSERT INTO template_versions (template_id, number, status, parts, sample_data, checksum,"
                " created_at) VALUES (1, 1, 'published', '{}', '{}', 'x', :now)"
            ),
            {"now": utcnow()},
        )

    upgrade(empty_url, "0012")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT layout, partials, library FROM template_versions")).one()
    assert row[0] is None and str(row[1]) == "{}" and str(row[2]) == "{}"
    assert set(inspect(engine).get_table_names()) >= TABLES

    command.downgrade(alembic_config(empty_url), "0010")
    engine.dispose()
    engine = make_engine(empty_url)
    assert not TABLES & set(inspect(engine).get_table_names())
    columns = {column["name"] for column in inspect(engine).get_columns("template_versions")}
    assert not {"layout", "partials", "library"} & columns
    engine.dispose()
