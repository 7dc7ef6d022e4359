"""Send requests and message views on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccm.channels.parts import ChannelList
from ccm.validation import Identifier, JsonObject, TemplateKey


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: TemplateKey
    customer_id: Identifier
    channels: ChannelList | None = None
    data: JsonObject = Field(default_factory=dict)
    send_at: datetime | None = None
    expires_at: datetime | None = None

    @field_validator("send_at", "expires_at")
    @classmethod
    def _reasonable(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 2000 <= value.year <= 2200:
            raise ValueError("must be between the years 2000 and 2200")
        return value


class QueuedMessage(BaseModel):
    id: str
    channel: str
    status: str


class MessagesAccepted(BaseModel):
    messages: list[QueuedMessage]


class MessageEvent(BaseModel):
    type: str
    occurred_at: datetime
    detail: dict[str, Any]


class ArchiveReference(BaseModel):
    sha256: str
    size: int
    content_type: str
    url: str


class MessageOut(BaseModel):
    id: str
    template: str
    template_version: int
    category: str
    channel: str
    customer_id: str
    recipient: str
    status: str
    attempts: int
    send_at: datetime | None
    next_attempt_at: datetime | None
    provider: str | None
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    archive: ArchiveReference | None
    document_url: str | None = None
    events: list[MessageEvent]


class BatchItem(MessageCreate):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: Annotated[list[BatchItem], Field(min_length=1, max_length=1000)]


class BatchItemResult(BaseModel):
    index: int
    idempotency_key: str
    status: int
    messages: list[QueuedMessage] | None = None
    error: dict[str, Any] | None = None


class BatchResponse(BaseModel):
    accepted: int
    rejected: int
    results: list[BatchItemResult]


class MessageSummary(BaseModel):
    id: str
    template: str
    channel: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    deadline_at: datetime | None


class MessagePage(BaseModel):
    items: list[MessageSummary]
    limit: int
    offset: int
