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
