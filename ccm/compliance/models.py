"""The compliance audit log: every search, view and export of the archive, hash-chained like the archive.

Its rows chain exactly as the archive's do (see `ccm.archiving.chain`), so editing, removing or reordering
one is detectable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime


class AuditRecord(SQLModel, table=True):
    """Who searched, viewed, exported or changed what in the archive, and when (hash-chained)."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("seq"), Index("ix_audit_log_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor_key_id: int | None = None
    actor: str = Field(max_length=200)
    role: str = Field(max_length=20)
    action: str = Field(max_length=40)
    query: dict[str, Any] = Field(sa_type=JSONType)
    message_ids: list[str] = Field(sa_type=JSONType)
    prev_hash: str = Field(max_length=64)
    record_hash: str = Field(max_length=64)
