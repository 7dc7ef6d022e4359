"""Templates and their versions. A published version never changes: messages point at it for ever."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import JSONType, UTCDateTime, utcnow


class Category(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Template(SQLModel, table=True):
    __tablename__ = "templates"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    category: Category = Field(sa_column=Column(String(20), nullable=False))
    description: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TemplateVersion(SQLModel, table=True):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id", index=True)
    number: int
    status: VersionStatus = Field(sa_column=Column(String(20), nullable=False))
    parts: dict[str, Any] = Field(sa_type=JSONType)
    sample_data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    checksum: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
