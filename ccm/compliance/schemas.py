"""Archive entries, verification reports and audit records as compliance staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ArchiveEntryOut(BaseModel):
    message_id: str
    customer_id: str
    channel: str
    category: str
    template: str
    template_version: int
    sha256: str
    size: int
    content_type: str
    store_url: str
    object_key: str
    version_id: str | None
    context_sha256: str
    archived_at: datetime
    retain_until: datetime | None
    lock_mode: str | None
    legal_hold: bool
    purged_at: datetime | None
    chain_position: int | None
    content_url: str


class IssueOut(BaseModel):
    message_id: str
    problem: str
    detail: str
    chain_position: int | None


class EventOut(BaseModel):
    type: str
    occurred_at: datetime
    detail: dict[str, Any]


class ArchiveEntryDetail(ArchiveEntryOut):
    context: dict[str, Any]
    verified: bool
    issues: list[IssueOut]
    events: list[EventOut]


class ArchivePage(BaseModel):
    items: list[ArchiveEntryOut]
    total: int
    limit: int
    offset: int


class VerifyReportOut(BaseModel):
    ok: bool
    store_url: str
    records: int
    objects_checked: int
    tombstones: int
    checkpoint_position: int | None
    issues: list[IssueOut]


class LegalHoldIn(BaseModel):
    on: bool
    reason: str = Field(default="", max_length=500)


class AuditRecordOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    query: dict[str, Any]
    message_ids: list[str]
    prev_hash: str
    record_hash: str


class AuditPage(BaseModel):
    items: list[AuditRecordOut]
    limit: int
    offset: int


class AuditVerifyOut(BaseModel):
    ok: bool
    records: int
    problems: list[str]


class ErasureOut(BaseModel):
    external_id: str
    erased_at: datetime
    archived_items_retained: int
    retained_until: datetime | None
    data_key_destroyed: bool
    completes: str
