"""Batch runs on the wire: a run's counters and the first page of its failures."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class BatchFailureOut(BaseModel):
    line: int
    customer_id: str | None
    code: str
    reason: str
    message_id: str | None


class BatchOut(BaseModel):
    """`total`, `considered` and `refused` count documents (input lines or segment customers); `queued`,
    `done`, `failed` and `pending` count messages (one per document and channel); `failures` lists refused
    documents and failed messages by line (a page of them: `failures_offset`, `failures_limit`)."""

    id: str
    template: str
    template_version: int
    mode: str
    channels: list[str]
    source: str
    input_name: str
    status: str
    total: int | None
    considered: int
    refused: int
    queued: int
    done: int
    failed: int
    pending: int
    pages: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    failures: list[BatchFailureOut]
