"""compliance archive: write-once objects, hash chain, signed checkpoints, audit log, customer data keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=520), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "seq"),
    )
    with op.batch_alter_table("archive_chain", schema=None) as batch_op:
        batch_op.create_index("ix_archive_chain_message", ["message_id"], unique=False)

    op.create_table(
        "archive_chain_heads",
        sa.Column("chain", sa.String(length=520), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    op.create_table(
        "archive_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=520), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archive_checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_archive_checkpoints_chain_seq", ["chain", "seq"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "customer_keys",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erasure_requested_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("destroyed_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.PrimaryKeyConstraint("customer_id"),
        sa.UniqueConstraint("key_id"),
    )
    with op.batch_alter_table("archive_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("stored_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("retain_until", ccm.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lock_mode", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("purged_at", ccm.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_snapshot", sa.Text(), nullable=True))
        batch_op.create_index("ix_archive_retain_until", ["retain_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("archive_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_retain_until")
        batch_op.drop_column("sealed_snapshot")
        batch_op.drop_column("key_id")
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("purged_at")
        batch_op.drop_column("legal_hold")
        batch_op.drop_column("lock_mode")
        batch_op.drop_column("retain_until")
        batch_op.drop_column("stored_sha256")
        batch_op.drop_column("version_id")

    op.drop_table("customer_keys")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("archive_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_checkpoints_chain_seq")

    op.drop_table("archive_checkpoints")
    op.drop_table("archive_chain_heads")
    with op.batch_alter_table("archive_chain", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_chain_message")

    op.drop_table("archive_chain")
