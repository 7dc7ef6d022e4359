"""Archive entries as compliance staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


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
    context_sha256: str
    archived_at: datetime
    content_url: str


class ArchiveEntryDetail(ArchiveEntryOut):
    context: dict[str, Any]


class ArchivePage(BaseModel):
    items: list[ArchiveEntryOut]
    limit: int
    offset: int
