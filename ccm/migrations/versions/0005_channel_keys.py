"""channel keys: every `channel` column widened to 20 characters, so registered channels are not cut at 10

Channels became open string keys (`ccm.channels`); `ccm.database.CHANNEL_KEY_LENGTH` is the width every
channel column shares and the longest key a channel spec may register. SQLite does not enforce VARCHAR
lengths, so only PostgreSQL's columns change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL_COLUMNS = (
    ("events", True),
    ("unsubscriptions", False),
    ("messages", False),
    ("archive_entries", False),
    ("suppressions", False),
    ("campaign_recipients", False),
)


def _resize(length_from: int, length_to: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, nullable in CHANNEL_COLUMNS:
        op.alter_column(
            table,
            "channel",
            existing_type=sa.String(length=length_from),
            type_=sa.String(length=length_to),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    _resize(10, 20)


def downgrade() -> None:
    _resize(20, 10)
