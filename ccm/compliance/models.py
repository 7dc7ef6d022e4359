"""The archive index: which stored object holds the exact bytes of which message, and what made them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime, utcnow


class ArchiveEntry(SQLModel, table=True):
    __tablename__ = "archive_entries"
    __table_args__ = (
        Index("ix_archive_customer_created", "customer_id", "created_at"),
        Index("ix_archive_channel_created", "channel", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(foreign_key="messages.id", unique=True, max_length=36)
    customer_id: int = Field(foreign_key="customers.id")
    channel: str = Field(max_length=10)
    category: str = Field(max_length=20)
    template_key: str = Field(max_length=100)
    template_version: int
    store_url: str = Field(max_length=500)
    object_key: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=100)
    context_sha256: str = Field(max_length=64)
    context: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
