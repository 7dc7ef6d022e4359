"""Migration 0015: the webhook tables match the models, take rows, and a downgrade removes them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

TABLES = {"webhook_endpoints", "webhook_deliveries", "webhook_receipts"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_webhook_tables_come_and_go(empty_url: str) -> None:
    upgrade(empty_url, "0015")
    assert _tables(empty_url) >= TABLES
    engine = make_engine(empty_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO webhook_endpoints (url, description, events, secret, enabled,"
                " consecutive_failures, created_at, updated_at)"
                " VALUES ('https://crm.example/h', '', '[\"message.opened\"]', 'whsec_x', true, 0, :at, :at)"
            ),
            {"at": now},
        )
        connection.execute(
            text(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_type, payload, status, attempts,"
                " next_attempt_at, created_at, updated_at)"
                " VALUES ('msg_1', 1, 'message.opened', '{}', 'pending', 0, :at, :at, :at)"
            ),
            {"at": now},
        )
        connection.execute(
            text(
                "INSERT INTO webhook_receipts (source, webhook_id, received_at) VALUES ('crm', 'msg_1', :at)"
            ),
            {"at": now},
        )
        due = connection.execute(text("SELECT id FROM webhook_deliveries WHERE status = 'pending'")).all()
    indexes = {index["name"] for index in inspect(engine).get_indexes("webhook_deliveries")}
    engine.dispose()
    assert [row[0] for row in due] == ["msg_1"]
    assert {"ix_webhook_deliveries_due", "ix_webhook_deliveries_endpoint"} <= indexes

    command.downgrade(alembic_config(empty_url), "0012")
    assert not TABLES & _tables(empty_url)
