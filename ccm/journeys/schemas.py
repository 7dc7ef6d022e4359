"""Journeys and events on the wire (the definition itself is `ccm.journeys.definition`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ccm.journeys.definition import EventName
from ccm.validation import Identifier, JsonObject


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: Identifier
    name: EventName
    properties: JsonObject = Field(default_factory=dict)


class EnrolmentRef(BaseModel):
    journey: str
    id: str


class EventAccepted(BaseModel):
    enrolments: list[EnrolmentRef]


class StepCounts(BaseModel):
    """Runs per step: waiting in it now, passed it, skipped it (by reason), exited at it, reached the
    goal while in it."""

    waiting: int = 0
    passed: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    exited: int = 0
    goal: int = 0
    failed: int = 0
    """Runs that ended here because the step kept raising (`step_failed`, the error on the run)."""
    ways: dict[str, int] = Field(default_factory=dict)
    """A branch's or split's conversion: runs that went each way out of it (`then`/`else`, or the
    variant's name); empty for other steps."""


class VersionOut(BaseModel):
    number: int
    status: str
    created_by: str
    submitted_by: str | None
    reviewed_by: str | None
    created_at: datetime
    published_at: datetime | None
    definition: dict[str, Any]


class JourneyOut(BaseModel):
    key: str
    category: str
    state: str
    live_version: int | None
    versions: list[VersionOut]
    definition: dict[str, Any]
    """The live version's definition, or the newest version's while none is live."""
    steps: dict[str, StepCounts]


class JourneySummary(BaseModel):
    key: str
    category: str
    state: str
    live_version: int | None
    latest_version: int


class JourneyList(BaseModel):
    journeys: list[JourneySummary]


class CustomerRun(BaseModel):
    """One of a customer's runs: which journey and version, and where it is (or where it ended)."""

    id: str
    journey: str
    name: str
    version: int
    status: str
    step_id: str | None
    """The step it is at, or the one it ended at."""
    wait_until: datetime | None
    entered_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class CustomerRuns(BaseModel):
    runs: list[CustomerRun]
    """Newest first, at most 20."""
