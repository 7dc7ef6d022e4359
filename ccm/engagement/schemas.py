"""Engagement on the wire: the per-customer summary and the timeline's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class FeedbackAnswer(BaseModel):
    """A survey answer (`ccm.engagement.feedback`): the customer record shows their newest."""

    kind: str
    score: int
    comment: str
    message_id: str | None
    answered_at: datetime
    template: str | None = None
    """The key of the template whose survey was answered."""


class EngagementSummary(BaseModel):
    sent: int
    delivered: int
    opened: int
    clicked: int
    failed: int
    last_sent_at: datetime | None
    last_opened_at: datetime | None
    last_clicked_at: datetime | None
    last_feedback: FeedbackAnswer | None = None


class TimelineEvent(BaseModel):
    type: str
    occurred_at: datetime
    message_id: str | None
    channel: str | None
    detail: dict[str, Any]


class FeedbackFigures(BaseModel):
    """NPS (promoters 9-10, passives 7-8, detractors 0-6; None without answers) and the CSAT average."""

    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    csat_responses: int
    csat_average: float | None
    groups: list[FeedbackGroup] | None = None
    """Per template or campaign (`by`), when asked for."""


class FeedbackGroup(BaseModel):
    """The figures of one template (`key`: its key) or campaign (`key`: its id; None: outside campaigns)."""

    key: str | int | None
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    csat_responses: int
    csat_average: float | None
