"""campaigns: campaigns (schedule, throttle, checkpoint, progress) and their recipients, unique per channel

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("send_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=True),
        sa.Column("local_date", sa.String(length=10), nullable=True),
        sa.Column("quiet_hours", sa.JSON(), nullable=True),
        sa.Column("frequency_cap", sa.JSON(), nullable=True),
        sa.Column("throttle_per_minute", sa.Integer(), nullable=True),
        sa.Column("fanout_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checkpoint_customer_id", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["api_keys.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_due", ["status", "fanout_at"], unique=False)

    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("skip_reason", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "customer_id", "channel"),
    )


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_due")

    op.drop_table("campaigns")
