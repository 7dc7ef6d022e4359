"""analytics: an index of events by type and time

`GET /v1/analytics` counts a date range's events of a few types; `ix_events_type_time` lets it read just
those rows instead of scanning the whole timeline (the other indexes lead with the customer or message).

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_type_time", "events", ["type", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_type_time", table_name="events")
