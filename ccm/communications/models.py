"""The outbox: one row per message per channel, claimed by workers; and the idempotency keys of sends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from ccm.database import CHANNEL_KEY_LENGTH, JSONType, UTCDateTime, utcnow


class MessageStatus(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    ARCHIVED = "archived"  # an archive-only message (print runs): rendered and archived, never handed off
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # held by a paused campaign: outside CLAIMABLE_STATUSES until resumed


TERMINAL_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.BOUNCED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.ARCHIVED,
    }
)
CLAIMABLE_STATUSES = (MessageStatus.QUEUED, MessageStatus.RENDERING, MessageStatus.SENDING)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_claim", "status", "lane", "priority", "next_attempt_at"),
        Index("ix_messages_campaign", "campaign_id", "status"),
        Index("ix_messages_customer_created", "customer_id", "created_at"),
        Index("ix_messages_provider_message_id", "provider_message_id"),
        Index("ix_messages_batch", "batch_id", "status"),
        Index("uq_messages_batch_line", "batch_id", "batch_line", "channel", unique=True),  # 0022
    )

    id: str = Field(primary_key=True, max_length=36)
    customer_id: int = Field(foreign_key="customers.id")
    template_version_id: int = Field(foreign_key="template_versions.id")
    template_key: str = Field(max_length=100)
    template_version: int
    category: str = Field(max_length=20)
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    recipient: str = Field(max_length=320)
    status: MessageStatus = Field(sa_column=Column(String(20), nullable=False))
    priority: int = 0
    lane: str = Field(default="transactional", max_length=20)
    archive_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # 0023
    campaign_id: int | None = None
    batch_id: int | None = None  # a batch run's message (0022), with the input line it came from
    batch_line: int | None = None
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handoff_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    context: dict[str, Any] = Field(sa_type=JSONType)
    context_sha256: str = Field(max_length=64)
    send_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=100)
    provider: str | None = Field(default=None, max_length=50)
    provider_message_id: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


_UNSCOPED = text("api_key_id IS NULL")


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a keyed request, replayed to every retry of the same request.

    A key belongs to the API key that sent it (migration 0007): two systems that happen to pick the same
    Idempotency-Key must each get their own message sent, never the other's response. NULLs are distinct
    in a unique constraint, so a record without an API key is kept unique by a partial index of its own.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key", name="uq_idempotency_keys_api_key_id_key"),
        Index(
            "uq_idempotency_keys_unscoped_key",
            "key",
            unique=True,
            sqlite_where=_UNSCOPED,
            postgresql_where=_UNSCOPED,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    api_key_id: int | None = Field(default=None, foreign_key="api_keys.id")
    request_hash: str = Field(max_length=64)
    response_status: int
    response_body: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
