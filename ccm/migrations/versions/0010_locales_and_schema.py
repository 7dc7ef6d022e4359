"""template versions: per-locale variants of their parts, and a JSON Schema for the data sends carry

`locales` holds each locale's overrides of the parts (`{"it": {"sms": {"text": ...}}}`); versions saved
before have none, so they keep sending their default parts to everyone. `data_schema` is the version's
data contract (JSON Schema 2020-12); versions saved before have none, so their sends keep only the render
check. The version's checksum already covers what existed; new versions' checksums cover both columns.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("template_versions") as batch:
        batch.add_column(sa.Column("locales", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("data_schema", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("data_schema")
        batch.drop_column("locales")
