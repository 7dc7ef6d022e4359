"""webhook secret rotation with a grace period: the previous secret and when it stops signing

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("previous_secret", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("previous_secret_expires_at", ccm.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
