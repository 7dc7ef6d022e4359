"""Template shapes on the wire. Part sources are checked for Jinja syntax before they are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ccm.channels import all_channels
from ccm.channels.parts import TemplateParts
from ccm.registry.models import Category, VersionStatus
from ccm.validation import JsonObject, Line, TemplateKey, Text


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: TemplateParts
    sample_data: JsonObject = Field(default_factory=dict)


class TemplateCreate(VersionCreate):
    key: TemplateKey
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    category: Category
    description: Annotated[Text, Field(max_length=2000)] = ""


class VersionSummary(BaseModel):
    number: int
    status: VersionStatus
    channels: list[str]
    checksum: str
    created_at: datetime
    published_at: datetime | None


class VersionDetail(VersionSummary):
    parts: dict[str, Any]
    sample_data: dict[str, Any]


class TemplateOut(BaseModel):
    key: str
    name: str
    category: Category
    description: str
    published_version: int | None
    latest_version: int
    versions: list[VersionSummary]
    created_at: datetime
    updated_at: datetime


class TemplateDetail(TemplateOut):
    latest: VersionDetail


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: JsonObject = Field(default_factory=dict)
    customer_id: Annotated[Line, Field(min_length=1, max_length=200)] | None = None
    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    locale: Annotated[Line, Field(min_length=2, max_length=35)] | None = None


def _channel_previews(schema: dict[str, Any]) -> None:
    """Document one optional key per registered channel, each with its spec's preview shape."""
    for spec in all_channels():
        schema["properties"][spec.key] = spec.preview_model.model_json_schema()


class PreviewResponse(BaseModel):
    """The version's identity, plus one key per channel part it has (email, sms, pdf, ...) holding that
    channel's preview."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_channel_previews)

    template: str
    version: int
    status: VersionStatus
    locale: str
