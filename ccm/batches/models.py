"""A batch run (its checkpoint and counters), the documents it refused, and the pages of its documents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime, utcnow


class BatchStatus(StrEnum):
    RUNNING = "running"  # documents are being read and queued (resumes from the checkpoint)
    QUEUED = "queued"  # every document read; its messages are on their way
    COMPLETED = "completed"  # every message finished (sent, archived or failed), or only retries remain
    FAILED = "failed"  # the input itself could not be read (the error says why); nothing more is queued


class BatchMode(StrEnum):
    SEND = "send"
    ARCHIVE_ONLY = "archive_only"


class BatchSource(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    SEGMENT = "segment"


class BatchRun(SQLModel, table=True):
    """One run over one input: the row is the checkpoint, moved in the same commit as the messages it
    queued, so a killed run resumes exactly where its last commit left it."""

    __tablename__ = "batch_runs"
    __table_args__ = (
        Index("ix_batch_runs_run_id", "run_id", unique=True),
        Index("ix_batch_runs_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=100)
    template_key: str = Field(max_length=100)
    template_version: int
    mode: BatchMode = Field(sa_column=Column(String(20), nullable=False))
    channels: list[str] | None = Field(default=None, sa_type=JSONType)
    source: BatchSource = Field(sa_column=Column(String(10), nullable=False))
    input_name: str = Field(max_length=255)
    input_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    input_sha256: str = Field(max_length=64)
    segment_key: str | None = Field(default=None, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: BatchStatus = Field(sa_column=Column(String(20), nullable=False))
    total: int | None = None
    # The checkpoint: documents considered so far, and where the next one starts in the input (the byte
    # offset and the line number there; a segment's run keeps the last customer id instead).
    considered: int = 0
    checkpoint_offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    checkpoint_line: int = 0
    checkpoint_customer_id: int = 0
    queued: int = 0
    refused: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: int | None = Field(default=None, foreign_key="api_keys.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BatchFailure(SQLModel, table=True):
    """A document refused before any message was queued (bad line, unknown customer, contract, consent)."""

    __tablename__ = "batch_failures"
    __table_args__ = (Index("ix_batch_failures_batch_line", "batch_id", "line"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch_runs.id")
    line: int
    customer_id: str | None = Field(default=None, max_length=255)
    code: str = Field(max_length=50)
    reason: str = Field(sa_column=Column(Text, nullable=False))


class BatchPages(SQLModel, table=True):
    """The pages of one finished message of a run: written once per message, summed for the run."""

    __tablename__ = "batch_pages"
    __table_args__ = (Index("ix_batch_pages_batch", "batch_id"),)

    message_id: str = Field(primary_key=True, max_length=36)
    batch_id: int = Field(foreign_key="batch_runs.id")
    pages: int
