"""Template shapes on the wire. Part sources are checked for Jinja syntax before they are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.registry.models import Category, VersionStatus
from ccm.validation import JsonObject, Line, TemplateKey, Text

SOURCE_LIMIT = 512 * 1024


class EmailPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Annotated[Line, Field(min_length=1, max_length=998)]
    mjml: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    html: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    text: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    attach_pdf: bool = False

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if (self.mjml is None) == (self.html is None):
            raise ValueError("an email part needs exactly one of 'mjml' or 'html'")
        return self


class SmsPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[Text, Field(min_length=1, max_length=10_000)]


class PdfPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    html: Annotated[Text, Field(min_length=1, max_length=SOURCE_LIMIT)]
    css: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None


class TemplateParts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailPart | None = None
    sms: SmsPart | None = None
    pdf: PdfPart | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.email is None and self.sms is None and self.pdf is None:
            raise ValueError("a template needs at least one part: email, sms or pdf")
        if self.email is not None and self.email.attach_pdf and self.pdf is None:
            raise ValueError("email.attach_pdf needs a 'pdf' part to attach")
        return self

    def channels(self) -> list[str]:
        return [name for name in ("email", "sms", "pdf") if getattr(self, name) is not None]


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


class EmailPreview(BaseModel):
    subject: str
    html: str
    text: str
    attachments: list[str]


class SmsPreview(BaseModel):
    text: str
    encoding: str
    segments: int


class PdfPreview(BaseModel):
    base64: str
    pages: int
    size: int


class PreviewResponse(BaseModel):
    template: str
    version: int
    status: VersionStatus
    locale: str
    email: EmailPreview | None = None
    sms: SmsPreview | None = None
    pdf: PdfPreview | None = None
