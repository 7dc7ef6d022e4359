"""delivery: lanes, deadlines, hand-off record, campaign link, suppression list

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lane", sa.String(length=20), nullable=False, server_default="transactional")
        )
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deadline_at", ccm.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("handoff_started_at", ccm.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_messages_claim")
        batch_op.create_index(
            "ix_messages_claim", ["status", "lane", "priority", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_messages_campaign", ["campaign_id", "status"], unique=False)
    op.execute("UPDATE messages SET lane = category")
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address"),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_campaign")
        batch_op.drop_index("ix_messages_claim")
        batch_op.create_index("ix_messages_claim", ["status", "priority", "next_attempt_at"], unique=False)
        batch_op.drop_column("handoff_started_at")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("campaign_id")
        batch_op.drop_column("lane")
