"""journeys: journeys, their versions, each customer's run (enrolment), the steps it passed, the winners
A/B splits chose, what segment and date triggers acted on, and the named events posted for customers

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ccm.database

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ccm.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "journey_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("published_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "number", name="uq_journey_versions_number"),
    )
    op.create_table(
        "journey_enrolments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("step_entered_at", UTC, nullable=True),
        sa.Column("wait_until", UTC, nullable=True),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("step_state", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("correlation", sa.String(length=500), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("end_reason", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["journey_versions.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_journey_enrolments_claim", "journey_enrolments", ["status", "due_at"])
    op.create_index(
        "ix_journey_enrolments_customer", "journey_enrolments", ["customer_id", "journey_id", "status"]
    )
    op.create_table(
        "journey_step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["journey_enrolments.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["journey_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrolment_id", "step_id", name="uq_journey_step_runs_step"),
    )
    op.create_index(
        "ix_journey_step_runs_version_step", "journey_step_runs", ["version_id", "step_id", "outcome"]
    )
    op.create_table(
        "journey_split_winners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.Column("chosen_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["journey_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "step_id", name="uq_journey_split_winners_step"),
    )
    op.create_table(
        "journey_trigger_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "customer_id", "mark", name="uq_journey_trigger_marks_mark"),
    )
    op.create_table(
        "customer_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_customer_events_customer_name", "customer_events", ["customer_id", "name", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_customer_events_customer_name", table_name="customer_events")
    op.drop_table("customer_events")
    op.drop_table("journey_split_winners")
    op.drop_table("journey_trigger_marks")
    op.drop_index("ix_journey_step_runs_version_step", table_name="journey_step_runs")
    op.drop_table("journey_step_runs")
    op.drop_index("ix_journey_enrolments_customer", table_name="journey_enrolments")
    op.drop_index("ix_journey_enrolments_claim", table_name="journey_enrolments")
    op.drop_table("journey_enrolments")
    op.drop_table("journey_versions")
    op.drop_table("journeys")
