"""Webhook endpoints, the deliveries queued for them, and the ids of webhooks received (for replays)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(SQLModel, table=True):
    """A URL subscribed to some event types; `disabled_reason` says why the dispatcher turned it off."""

    __tablename__ = "webhook_endpoints"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    events: list[str] = Field(default_factory=list, sa_type=JSONType)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    """The secret before the last rotation: it signs too until `previous_secret_expires_at`."""
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: the outbox row, leased by a dispatcher while it is being sent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    """The `webhook-id` header: the same on every attempt, so a receiver can drop duplicates."""
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id")
    event_type: str = Field(max_length=50)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=100)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookReceipt(SQLModel, table=True):
    """A `webhook-id` already applied by an inbound webhook: a replay is acknowledged, not applied again."""

    __tablename__ = "webhook_receipts"

    source: str = Field(primary_key=True, max_length=30)
    webhook_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
