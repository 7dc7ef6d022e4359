"""Everything that happened to a customer's communications, in one append-only table: the timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from ccm.database import CHANNEL_KEY_LENGTH, JSONType, UTCDateTime, utcnow


class EventType(StrEnum):
    QUEUED = "queued"
    ARCHIVED = "archived"
    SENT = "sent"
    DELIVERED = "delivered"
    RETRY = "retry"
    CANCELLED = "cancelled"
    REQUEUED = "requeued"
    RESUMED = "resumed"
    PROVIDER_FAILED = "provider_failed"  # failover passed a provider over (one per leg); the hand-off went on
    SUPPRESSED = "suppressed"
    COMPLAINED = "complained"
    FAILED = "failed"
    BOUNCED = "bounced"
    OPENED = "opened"
    CLICKED = "clicked"
    UNSUBSCRIBED = "unsubscribed"
    DOCUMENT_VIEWED = "document_viewed"
    FEEDBACK = "feedback"  # a survey answer (`ccm.engagement.feedback`)
    CUSTOMER_EVENT = "customer_event"  # `POST /v1/events`: detail {name, properties} (`ccm.journeys.events`)


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_time", "customer_id", "occurred_at"),
        Index("ix_events_message", "message_id"),
        Index("ix_events_type_time", "type", "occurred_at"),  # analytics over a date range (0018)
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    message_id: str | None = Field(default=None, max_length=36)
    type: EventType = Field(sa_column=Column(String(30), nullable=False))
    channel: str | None = Field(default=None, max_length=CHANNEL_KEY_LENGTH)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
