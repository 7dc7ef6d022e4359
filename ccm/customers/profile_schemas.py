"""The customer profile on the wire: engagement metrics, the last survey answer and segment membership."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ccm.engagement.schemas import FeedbackAnswer


class LastEngagement(BaseModel):
    """A person's newest open or click (never a machine's)."""

    at: datetime
    message_id: str | None
    channel: str | None
    template: str | None = Field(description="the key of the template of the message")


class RateWindow(BaseModel):
    """Email open and click rates over the last `days` days."""

    days: int
    counted: Literal["delivered", "sent"] = Field(
        description="the emails counted: delivered ones, or sent ones when none was reported delivered"
    )
    emails: int = Field(description="the rates' denominator: emails delivered (or sent) in the window")
    opened: int = Field(description="of those, the emails a person opened")
    clicked: int = Field(description="of those, the emails a person clicked a link in")
    open_rate: float | None = Field(description="opened / emails (0-1); null without emails")
    click_rate: float | None = Field(description="clicked / emails (0-1); null without emails")


class EngagementMetrics(BaseModel):
    last_open: LastEngagement | None
    last_click: LastEngagement | None
    rates: list[RateWindow] = Field(description="one per window: 30 and 90 days")


class SegmentMembership(BaseModel):
    key: str
    name: str


class CustomerProfile(BaseModel):
    external_id: str
    engagement: EngagementMetrics
    last_feedback: FeedbackAnswer | None = Field(description="the newest NPS or CSAT answer")
    segments: list[SegmentMembership] = Field(description="the saved segments the customer is in now")
