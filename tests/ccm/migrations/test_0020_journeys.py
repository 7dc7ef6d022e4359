"""Migration 0020: the journey tables come and go; a run records each step once (the unique key the
engine's exactly-once relies on)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

TABLES = {
    "journeys",
    "journey_versions",
    "journey_enrolments",
    "journey_step_runs",
    "journey_split_winners",
    "journey_trigger_marks",
    "customer_events",
}
SETUP = [
    "INSERT INTO customers"
    " (id, external_id, email, phone, locale, timezone, attributes, created_at, updated_at)"
    " VALUES (1, 'c-1', NULL, NULL, 'en', 'UTC', '{}', :at, :at)",
    "INSERT INTO journeys (id, key, category, state, created_at, updated_at)"
    " VALUES (1, 'chase', 'transactional', 'active', :at, :at)",
    "INSERT INTO journey_versions (id, journey_id, number, status, definition, created_by, created_at)"
    " VALUES (1, 1, 1, 'published', '{}', 'system', :at)",
    "INSERT INTO journey_enrolments"
    " (id, journey_id, version_id, customer_id, status, data, step_state, created_at, updated_at)"
    " VALUES ('r-1', 1, 1, 1, 'active', '{}', '{}', :at, :at)",
]
STEP = text(
    "INSERT INTO journey_step_runs (enrolment_id, version_id, step_id, outcome, detail, occurred_at)"
    " VALUES ('r-1', 1, 'mail', 'passed', '{}', :at)"
)


def test_journey_tables_come_and_go(empty_url: str) -> None:
    upgrade(empty_url, "0012")
    upgrade(empty_url, "0020")
    engine = make_engine(empty_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.begin() as connection:
        for statement in SETUP:
            connection.execute(text(statement), {"at": utcnow()})
        connection.execute(STEP, {"at": utcnow()})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(STEP, {"at": utcnow()})
    engine.dispose()

    command.downgrade(alembic_config(empty_url), "0012")
    engine = make_engine(empty_url)
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
