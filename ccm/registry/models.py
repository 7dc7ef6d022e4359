"""Templates and their versions. A published version never changes: messages point at it for ever."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.database import JSONType, UTCDateTime, utcnow


class Category(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class VersionStatus(StrEnum):
    """Where a version is in its review; `ccm.registry.workflow` holds the moves between them."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    """Live: the one version of its template that sends use."""
    SUPERSEDED = "superseded"
    """Was live until a newer version was published; messages sent with it still point at it."""


_LIVE = text("status = 'published'")
"""At most one live version per template, whatever two publishers do at once."""


class Template(SQLModel, table=True):
    __tablename__ = "templates"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    category: Category = Field(sa_column=Column(String(20), nullable=False))
    description: str = Field(default="", max_length=2000)
    topic: str | None = Field(default=None, max_length=100)
    """The consent topic (`ccm.customers` topics) a marketing template's sends are about; None: none."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TemplateVersion(SQLModel, table=True):
    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "number"),
        Index(
            "uq_template_versions_live",
            "template_id",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id", index=True)
    number: int
    status: VersionStatus = Field(sa_column=Column(String(20), nullable=False))
    parts: dict[str, Any] = Field(sa_type=JSONType)
    sample_data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    locales: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """Per-locale overrides of `parts` by BCP 47 tag (`it`, `de-CH`); `ccm.registry.locales` reads them."""
    data_schema: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    """The JSON Schema (2020-12) a send's `data` must satisfy; None: only the render check applies."""
    layout: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    """The pinned layout, `{"key": K, "version": N}`, fixed when the version was saved (None: no layout)."""
    partials: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """The pinned partials, `{"partial-key": N}`: each one's live version when this version was saved."""
    library: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """The pinned sources themselves (`ccm.registry.library`), so every render, re-renders included, reads
    exactly what the pins named, whatever is published later."""
    checksum: str = Field(max_length=64)
    created_by: str = Field(max_length=200, sa_column_kwargs={"server_default": SYSTEM_IDENTITY})
    """The author's identity (`ccm.access.identity`), whom four-eyes keeps from approving it; versions
    saved before authors were recorded count as the system's."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VersionTransition(SQLModel, table=True):
    """One move of a version through its review (`from_status` None: the version was saved), kept for ever."""

    __tablename__ = "version_transitions"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="template_versions.id", index=True)
    from_status: VersionStatus | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    to_status: VersionStatus = Field(sa_column=Column(String(20), nullable=False))
    identity: str = Field(max_length=200)
    comment: str = Field(default="", max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryKind(StrEnum):
    """Registry objects templates build on: a layout wraps email and PDF HTML, a partial is included."""

    LAYOUT = "layout"
    PARTIAL = "partial"


class LibraryItem(SQLModel, table=True):
    """A layout or a partial, by kind and key; its versions are reviewed like a marketing template's."""

    __tablename__ = "library_items"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: LibraryKind = Field(sa_column=Column(String(20), nullable=False))
    key: str = Field(max_length=100)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryVersion(SQLModel, table=True):
    """An immutable version of a layout (`{"email": …, "pdf": …}`) or a partial (`{"source": …}`)."""

    __tablename__ = "library_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "number"),
        Index("uq_library_versions_live", "item_id", unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="library_items.id", index=True)
    number: int
    status: VersionStatus = Field(sa_column=Column(String(20), nullable=False))
    content: dict[str, Any] = Field(sa_type=JSONType)
    checksum: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LibraryTransition(SQLModel, table=True):
    """One move of a layout or partial version through its review, kept for ever."""

    __tablename__ = "library_transitions"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="library_versions.id", index=True)
    from_status: VersionStatus | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    to_status: VersionStatus = Field(sa_column=Column(String(20), nullable=False))
    identity: str = Field(max_length=200)
    comment: str = Field(default="", max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
