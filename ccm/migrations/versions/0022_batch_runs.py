"""batch runs: a statement run's checkpoint and counters, its refused documents, its pages, and each
message's link to its run and input line (unique per run, line and channel: nothing queued twice)

Revision ID: 0022
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=100), nullable=False),
        sa.Column("template_key", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("input_name", sa.String(length=255), nullable=False),
        sa.Column("input_path", sa.Text(), nullable=True),
        sa.Column("input_sha256", sa.String(length=64), nullable=False),
        sa.Column("segment_key", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("considered", sa.Integer(), nullable=False),
        sa.Column("checkpoint_offset", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_line", sa.Integer(), nullable=False),
        sa.Column("checkpoint_customer_id", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.create_index("ix_batch_runs_run_id", ["run_id"], unique=True)
        batch_op.create_index("ix_batch_runs_status", ["status"], unique=False)

    op.create_table(
        "batch_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("batch_failures", schema=None) as batch_op:
        batch_op.create_index("ix_batch_failures_batch_line", ["batch_id", "line"], unique=False)

    op.create_table(
        "batch_pages",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch_runs.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("batch_pages", schema=None) as batch_op:
        batch_op.create_index("ix_batch_pages_batch", ["batch_id"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("batch_line", sa.Integer(), nullable=True))
        batch_op.create_index("ix_messages_batch", ["batch_id", "status"], unique=False)
        batch_op.create_index("uq_messages_batch_line", ["batch_id", "batch_line", "channel"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("uq_messages_batch_line")
        batch_op.drop_index("ix_messages_batch")
        batch_op.drop_column("batch_line")
        batch_op.drop_column("batch_id")
    op.drop_table("batch_pages")
    op.drop_table("batch_failures")
    op.drop_table("batch_runs")
