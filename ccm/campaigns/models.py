"""A campaign (what, to whom, when, how fast) and one row per recipient and channel it considered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import CHANNEL_KEY_LENGTH, JSONType, UTCDateTime, utcnow


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its fan-out time
    RUNNING = "running"  # fan-out in progress (resumes from the checkpoint)
    COMPLETED = "completed"  # every recipient considered; messages may still be on their way
    PAUSED = "paused"
    CANCELLED = "cancelled"


FANNING_OUT = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_due", "status", "fanout_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    template_id: int = Field(foreign_key="templates.id")
    template_version_id: int = Field(foreign_key="template_versions.id")
    channels: list[str] = Field(sa_type=JSONType)
    segment: dict[str, Any] = Field(sa_type=JSONType)
    data: dict[str, Any] = Field(sa_type=JSONType)
    status: CampaignStatus = Field(sa_column=Column(String(20), nullable=False))
    send_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    local_time: str | None = Field(default=None, max_length=5)
    local_date: str | None = Field(default=None, max_length=10)
    quiet_hours: dict[str, str] | None = Field(default=None, sa_type=JSONType)
    frequency_cap: dict[str, int] | None = Field(default=None, sa_type=JSONType)
    throttle_per_minute: int | None = None
    fanout_at: datetime = Field(sa_type=UTCDateTime)
    # The checkpoint: customers up to this id have been considered; written with their batch's messages.
    checkpoint_customer_id: int = 0
    batches: int = 0
    targeted: int = 0
    queued: int = 0
    skipped: dict[str, int] = Field(default_factory=dict, sa_type=JSONType)
    created_by: int | None = Field(default=None, foreign_key="api_keys.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CampaignRecipient(SQLModel, table=True):
    """At most one per campaign, customer and channel (a unique index), queued or skipped with a reason."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    customer_id: int = Field(foreign_key="customers.id")
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    message_id: str | None = Field(default=None, max_length=36)
    skip_reason: str | None = Field(default=None, max_length=30)
