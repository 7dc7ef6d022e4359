"""consent by topic: topics, each customer's current consent per channel and topic, and its history

`topics` are what marketing is about (newsletter, offers), each on the channels it applies to; a template
may name its topic (`templates.topic`). `consents` holds the current state per customer, channel and topic
(topic "" is the channel as a whole: double opt-in's confirmation), `consent_events` every change with its
source. Channel opt-outs stay in `unsubscriptions`. Customers without a record count as opted in, as before,
so nothing is back-filled; a downgrade drops the three tables and the column.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-12
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _per_customer(name: str, *columns: sa.Column[Any], unique: tuple[str, ...] = ()) -> None:
    """A table of rows about one customer, with the columns every consent row has and its index."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        *([sa.UniqueConstraint(*unique)] if unique else []),
    )
    op.create_index(f"ix_{name}_customer_id", name, ["customer_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    _per_customer(
        "consents",
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        unique=("customer_id", "channel", "topic"),
    )
    _per_customer(
        "consent_events",
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("topic")
    op.drop_index("ix_consent_events_customer_id", table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_index("ix_consents_customer_id", table_name="consents")
    op.drop_table("consents")
    op.drop_table("topics")
