"""version workflow: authors, review states and their history, and exactly one live version per template

Versions now record their author (`created_by`, an identity such as `key:3`; versions saved before count
as `system`'s) and move draft -> submitted -> approved/rejected -> published; every move is kept in
`version_transitions`. "published" now means live: of the versions published so far, all but each
template's newest become `superseded` (sends already used only the newest), and a partial unique index
keeps one live version per template from now on. A downgrade turns superseded versions back into published
ones and versions in review back into drafts, and forgets authors and history.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_INDEX = "uq_template_versions_live"
LIVE = sa.text("status = 'published'")


def upgrade() -> None:
    op.add_column(
        "template_versions",
        sa.Column("created_by", sa.String(length=200), nullable=False, server_default="system"),
    )
    op.execute(
        "UPDATE template_versions SET status = 'superseded' WHERE status = 'published' AND number < ("
        "SELECT MAX(newer.number) FROM template_versions AS newer"
        " WHERE newer.template_id = template_versions.template_id AND newer.status = 'published')"
    )
    op.create_index(
        LIVE_INDEX,
        "template_versions",
        ["template_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "version_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("at", ccm.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["template_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_version_transitions_version_id", "version_transitions", ["version_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_version_transitions_version_id", table_name="version_transitions")
    op.drop_table("version_transitions")
    op.drop_index(LIVE_INDEX, table_name="template_versions")
    op.execute("UPDATE template_versions SET status = 'published' WHERE status = 'superseded'")
    op.execute(
        "UPDATE template_versions SET status = 'draft' WHERE status IN ('submitted', 'approved', 'rejected')"
    )
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("created_by")
