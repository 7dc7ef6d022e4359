"""Journeys, their numbered versions, each customer's run through one (an enrolment, the engine's queue),
the steps each run passed, and the named events posted for customers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime, utcnow


class JourneyState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    """Runs hold their place; events still count, nothing is claimed."""
    STOPPED = "stopped"
    """Every run exited; nobody enrols."""


class RunStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    """Went past the last step."""
    EXITED = "exited"
    """An exit step, or the journey stopped."""
    GOAL = "goal"
    """The goal event came first."""
    FAILED = "failed"
    """A step kept raising for `CCM_JOURNEY_STEP_MAX_ATTEMPTS` attempts; the error is in `step_state`."""


class Outcome(StrEnum):
    PASSED = "passed"
    SKIPPED = "skipped"


class Journey(SQLModel, table=True):
    __tablename__ = "journeys"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    category: str = Field(max_length=20)
    state: JourneyState = Field(default=JourneyState.ACTIVE, sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JourneyVersion(SQLModel, table=True):
    """A definition, never changed once saved; it goes live like a template version (`workflow`)."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "number", name="uq_journey_versions_number"),)

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journeys.id")
    number: int
    status: str = Field(max_length=20)
    definition: dict[str, Any] = Field(sa_type=JSONType)
    created_by: str = Field(max_length=100)
    submitted_by: str | None = Field(default=None, max_length=100)
    reviewed_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Enrolment(SQLModel, table=True):
    """One customer's run through one journey version: where it is and when it is next due. Workers claim
    due rows with a lease, as they claim messages."""

    __tablename__ = "journey_enrolments"
    __table_args__ = (
        Index("ix_journey_enrolments_claim", "status", "due_at"),
        Index("ix_journey_enrolments_customer", "customer_id", "journey_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    journey_id: int = Field(foreign_key="journeys.id")
    version_id: int = Field(foreign_key="journey_versions.id")
    customer_id: int = Field(foreign_key="customers.id")
    status: RunStatus = Field(sa_column=Column(String(20), nullable=False))
    step_id: str | None = Field(default=None, max_length=64)
    """The step it is at (waiting in, or about to run); the step it ended at once it ended."""
    step_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    wait_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set while it waits in its step (a wait, or a send held by quiet hours or for its outcome)."""
    step_state: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """What its current step did so far: a fallback send's queued messages and refused channels."""
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a worker should next look at it; None once it ended or while its journey is paused."""
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """The triggering event's properties: sends' data and `property` branches read them."""
    correlation: str | None = Field(default=None, max_length=500)
    """The value at the goal's `match` path in the triggering event, which a goal event must repeat."""
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=100)


class StepRun(SQLModel, table=True):
    """A step an enrolment went through, once: the unique key is what makes a re-run after a crash a
    no-op, and the rows are the per-step counts."""

    __tablename__ = "journey_step_runs"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "step_id", name="uq_journey_step_runs_step"),
        Index("ix_journey_step_runs_version_step", "version_id", "step_id", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: str = Field(foreign_key="journey_enrolments.id", max_length=36)
    version_id: int = Field(foreign_key="journey_versions.id")
    step_id: str = Field(max_length=64)
    outcome: Outcome = Field(sa_column=Column(String(20), nullable=False))
    reason: str | None = Field(default=None, max_length=100)
    message_id: str | None = Field(default=None, max_length=36)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CustomerEvent(SQLModel, table=True):
    """A named event posted for a customer (`invoice_issued`), kept so waits and branches can test it."""

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_name", "customer_id", "name", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    name: str = Field(max_length=100)
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SplitWinner(SQLModel, table=True):
    """The variant a split with `winner` chose, once (unique per version and step), with the rates it was
    chosen by: every run after it goes to this variant."""

    __tablename__ = "journey_split_winners"
    __table_args__ = (UniqueConstraint("version_id", "step_id", name="uq_journey_split_winners_step"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="journey_versions.id")
    step_id: str = Field(max_length=64)
    variant: str = Field(max_length=40)
    rates: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    chosen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TriggerMark(SQLModel, table=True):
    """What a segment or date trigger already acted on for a customer: `segment` while they are in the
    segment (so only entering enrols), `date:YYYY-MM-DD` for each occasion of a date trigger."""

    __tablename__ = "journey_trigger_marks"
    __table_args__ = (
        UniqueConstraint("journey_id", "customer_id", "mark", name="uq_journey_trigger_marks_mark"),
    )

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journeys.id")
    customer_id: int = Field(foreign_key="customers.id")
    mark: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
