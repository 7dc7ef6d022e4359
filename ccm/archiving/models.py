"""The archive's tables: the searchable index, the hash chain over it, signed checkpoints, and the
per-customer data keys that make crypto-shredding possible.

The index (`archive_entries`) is mutable where it must be (legal hold, purge marks); the chain
(`archive_chain`) is append-only, and each row's hash covers its own canonical JSON
body including the previous row's hash, so editing, removing or reordering rows is detectable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import CHANNEL_KEY_LENGTH, JSONType, UTCDateTime, utcnow

GENESIS = "0" * 64


class ArchiveEntry(SQLModel, table=True):
    __tablename__ = "archive_entries"
    __table_args__ = (
        Index("ix_archive_customer_created", "customer_id", "created_at"),
        Index("ix_archive_channel_created", "channel", "created_at"),
        Index("ix_archive_retain_until", "retain_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(foreign_key="messages.id", unique=True, max_length=36)
    customer_id: int = Field(foreign_key="customers.id")
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
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
    # Write-once storage and tamper evidence (0002): None only on entries archived before them.
    version_id: str | None = Field(default=None, max_length=200)
    stored_sha256: str | None = Field(default=None, max_length=64)
    retain_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lock_mode: str | None = Field(default=None, max_length=20)
    legal_hold: bool = False
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chain_seq: int | None = None
    key_id: str | None = Field(default=None, max_length=64)
    sealed_snapshot: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ChainHead(SQLModel, table=True):
    """The last position of one chain; its row lock serialises appends across processes."""

    __tablename__ = "archive_chain_heads"

    chain: str = Field(primary_key=True, max_length=520)
    seq: int = 0
    head_hash: str = Field(default=GENESIS, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChainRecord(SQLModel, table=True):
    """One link of an archive chain: a message archived, or a tombstone for a lawful purge."""

    __tablename__ = "archive_chain"
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_archive_chain_message", "message_id"))

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=520)
    seq: int
    kind: str = Field(max_length=20)
    message_id: str = Field(max_length=36)
    body: dict[str, Any] = Field(sa_type=JSONType)
    prev_hash: str = Field(max_length=64)
    record_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Checkpoint(SQLModel, table=True):
    """A chain head signed with the service's Ed25519 key."""

    __tablename__ = "archive_checkpoints"
    __table_args__ = (Index("ix_archive_checkpoints_chain_seq", "chain", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=520)
    seq: int
    record_hash: str = Field(max_length=64)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    key_fingerprint: str = Field(max_length=64)
    signature: str = Field(max_length=200)


class CustomerKey(SQLModel, table=True):
    """A customer's data key, wrapped with the master key; destroying it shreds their archived items."""

    __tablename__ = "customer_keys"

    customer_id: int = Field(primary_key=True, foreign_key="customers.id")
    key_id: str = Field(max_length=64, unique=True)
    wrapped_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    erasure_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    destroyed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
