"""Engagement on the wire: the per-customer summary and the timeline's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class EngagementSummary(BaseModel):
    sent: int
    delivered: int
    opened: int
    clicked: int
    failed: int
    last_sent_at: datetime | None
    last_opened_at: datetime | None
    last_clicked_at: datetime | None


class TimelineEvent(BaseModel):
    type: str
    occurred_at: datetime
    message_id: str | None
    channel: str | None
    detail: dict[str, Any]
