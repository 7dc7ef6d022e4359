"""layouts and partials: registry objects with reviewed versions, and the pins template versions keep

`library_items` holds layouts and partials by kind and key, `library_versions` their immutable versions
(one live per item, as for templates) and `library_transitions` every move of their review. A template
version pins the layout version it names (`layout`) and the live version of each partial it includes
(`partials`), and keeps the pinned sources themselves (`library`), so its renders never change. Versions
saved before pin nothing. Merges the workflow (0009) and locales (0010) heads it builds on.

Revision ID: 0012
Revises: 0009, 0010
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0012"
down_revision: str | Sequence[str] | None = ("0009", "0010")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status = 'published'")


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key"),
    )
    op.create_table(
        "library_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", ccm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["library_items.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "number"),
    )
    op.create_index("ix_library_versions_item_id", "library_versions", ["item_id"], unique=False)
    op.create_index(
        "uq_library_versions_live",
        "library_versions",
        ["item_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "library_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["library_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_library_transitions_version_id", "library_transitions", ["version_id"], unique=False)
    with op.batch_alter_table("template_versions") as batch:
        batch.add_column(sa.Column("layout", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("partials", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("library", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("library")
        batch.drop_column("partials")
        batch.drop_column("layout")
    op.drop_index("ix_library_transitions_version_id", table_name="library_transitions")
    op.drop_table("library_transitions")
    op.drop_index("uq_library_versions_live", table_name="library_versions")
    op.drop_index("ix_library_versions_item_id", table_name="library_versions")
    op.drop_table("library_versions")
    op.drop_table("library_items")
