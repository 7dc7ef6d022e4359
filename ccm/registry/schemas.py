"""Template shapes on the wire. Part sources are checked for Jinja syntax before they are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.channels import all_channels
from ccm.channels.parts import TemplateParts
from ccm.registry.locales import TemplateLocales
from ccm.registry.models import Category, LibraryKind, VersionStatus
from ccm.validation import SOURCE_LIMIT, JsonObject, Line, TemplateKey, Text

Source = Annotated[Text, Field(max_length=SOURCE_LIMIT)]


class LayoutPin(BaseModel):
    """The layout version a template version is wrapped in: a published version of that layout."""

    model_config = ConfigDict(extra="forbid")

    key: TemplateKey
    version: Annotated[int, Field(ge=1, le=1_000_000)]


UNSAVED_LAYOUT = Field(
    default=None,
    description="An unsaved layout choice over the version's (the editor's preview and lint): a published"
    " layout version, or `false` for none; omitted: the version's own.",
)


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: TemplateParts
    sample_data: JsonObject = Field(default_factory=dict)
    locales: TemplateLocales = Field(
        default_factory=dict,
        description='Per-locale overrides of the parts (`{"it": {"sms": {"text": ...}}}`): field by'
        " field over the defaults, falling back `it-CH` -> `it` -> the default parts.",
    )
    data_schema: JsonObject | Literal[False] | None = Field(
        default=None,
        alias="schema",
        description="The JSON Schema (2020-12) of the data sends carry. Omitted: one is proposed from the"
        " variables the parts use; `false`: none.",
    )
    layout: LayoutPin | None = Field(
        default=None,
        description="The layout wrapping the email and PDF HTML (its `content` block): a published version."
        ' Partials the parts include (`{% include "key" %}`) are pinned to their live versions on save.',
    )


class TemplateCreate(VersionCreate):
    key: TemplateKey
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    category: Category
    description: Annotated[Text, Field(max_length=2000)] = ""
    topic: TemplateKey | None = Field(
        default=None, description="The consent topic (`/v1/topics`) of a marketing template's sends"
    )


class VersionSummary(BaseModel):
    number: int
    status: VersionStatus
    channels: list[str]
    checksum: str
    created_by: str
    created_at: datetime
    published_at: datetime | None


class Transition(BaseModel):
    """One move of a version through its review; `from_status` is null where the version was saved."""

    from_status: VersionStatus | None
    to_status: VersionStatus
    identity: str
    comment: str
    at: datetime


class VersionDetail(VersionSummary):
    model_config = ConfigDict(populate_by_name=True)

    parts: dict[str, Any]
    sample_data: dict[str, Any]
    locales: dict[str, Any] = Field(default_factory=dict)
    data_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    layout: LayoutPin | None = None
    partials: dict[str, int] = Field(default_factory=dict)
    """The partial versions this version's includes were pinned to when it was saved."""
    history: list[Transition]
    contract_covers_parts: bool = Field(
        default=False,
        description="True: the schema covers every variable the parts read, so sends are checked by "
        "validating the data (no render at the API); false: each send is also rendered to check it.",
    )
    contract_gaps: list[str] = Field(default_factory=list, description="Why the schema does not cover them.")


class TemplateOut(BaseModel):
    key: str
    name: str
    category: Category
    description: str
    topic: str | None = None
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
    parts: TemplateParts | None = Field(
        default=None, description="Unsaved parts to render instead of the version's (the editor's preview)"
    )
    locales: TemplateLocales | None = Field(
        default=None, description="Unsaved locale variants; with `parts`, or over the version's parts"
    )
    layout: LayoutPin | Literal[False] | None = UNSAVED_LAYOUT


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """A JSON schema with its local `$defs` references replaced by the definitions themselves."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref", "")
    if reference.startswith("#/$defs/"):
        return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
    return {key: _inlined(value, definitions) for key, value in node.items()}


def _channel_previews(schema: dict[str, Any]) -> None:
    """Document one optional key per registered channel, each with its spec's preview shape (a shape's
    nested models inlined: a `$defs` reference would point nowhere inside the OpenAPI document)."""
    for spec in all_channels():
        shape = spec.preview_model.model_json_schema()
        schema["properties"][spec.key] = _inlined(shape, shape.pop("$defs", {}))


class PreviewResponse(BaseModel):
    """The version's identity, plus one key per channel part it has (email, sms, pdf, ...) holding that
    channel's preview."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_channel_previews)

    template: str
    version: int
    status: VersionStatus
    locale: str


Comment = Annotated[Text, Field(max_length=2000)]


class ReviewRequest(BaseModel):
    """A submission or an approval, with an optional comment for the history."""

    model_config = ConfigDict(extra="forbid")

    comment: Comment = ""


class RejectRequest(BaseModel):
    """A rejection says why, so the author knows what to fix in the next version."""

    model_config = ConfigDict(extra="forbid")

    comment: Annotated[Comment, Field(min_length=1)]


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Annotated[int, Field(ge=1, le=1_000_000, description="the version whose content comes back")]


class LintRequest(BaseModel):
    """A saved version to lint (`version`, default the latest), or unsaved content the editor has: each
    field given replaces that version's (`"schema": false`: lint without a schema)."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    parts: TemplateParts | None = None
    locales: TemplateLocales | None = None
    data_schema: JsonObject | Literal[False] | None = Field(default=None, alias="schema")
    sample_data: JsonObject | None = None
    layout: LayoutPin | Literal[False] | None = UNSAVED_LAYOUT


class LintIssueOut(BaseModel):
    rule: str = Field(description="the rule that found it, as `image_alt` or `sms_ucs2`")
    severity: Literal["error", "warning"] = Field(description="errors stop a submission; warnings are shown")
    part: str = Field(description="the part field, as `email.html`, `sms.text` or `pdf.html`")
    locale: str | None = Field(description="the locale variant it is in; null for the default parts")
    line: int | None = Field(description="1-based line in that field's source; null when it has none")
    message: str


class LintResponse(BaseModel):
    issues: list[LintIssueOut]


class DiffChange(BaseModel):
    part: str = Field(description="a part's field, as `email.subject` or `sms.text`, or `sample_data`")
    locale: str | None = Field(description="the locale variant changed; null for the default parts")
    diff: str = Field(description="a unified diff, from the first version to the second")


class VersionDiff(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    changes: list[DiffChange]


class LayoutContent(BaseModel):
    """A layout version: the HTML (or MJML) wrapping email bodies and/or the HTML wrapping PDFs, each with
    `{% block content %}{% endblock %}` where the template's part goes."""

    model_config = ConfigDict(extra="forbid")

    email: Source | None = None
    pdf: Source | None = None

    @model_validator(mode="after")
    def _some_source(self) -> LayoutContent:
        if self.email is None and self.pdf is None:
            raise ValueError("a layout needs an 'email' or a 'pdf' source (or both)")
        return self


class PartialContent(BaseModel):
    """A partial version: a Jinja snippet templates include as `{% include "partial-key" %}`."""

    model_config = ConfigDict(extra="forbid")

    source: Annotated[Text, Field(min_length=1, max_length=SOURCE_LIMIT)]


class LayoutCreate(LayoutContent):
    key: TemplateKey
    name: Annotated[Line, Field(min_length=1, max_length=200)]


class PartialCreate(PartialContent):
    key: TemplateKey
    name: Annotated[Line, Field(min_length=1, max_length=200)]


LIBRARY_SHAPES: dict[LibraryKind, tuple[type[BaseModel], type[BaseModel]]] = {
    LibraryKind.LAYOUT: (LayoutCreate, LayoutContent),
    LibraryKind.PARTIAL: (PartialCreate, PartialContent),
}
"""Each kind's request shapes, (create, new version): the API's routes and the web UI's forms read them."""


class LibraryVersionOut(BaseModel):
    number: int
    status: VersionStatus
    content: dict[str, Any]
    checksum: str
    created_by: str
    created_at: datetime
    published_at: datetime | None
    history: list[Transition]


class LibraryItemOut(BaseModel):
    kind: LibraryKind
    key: str
    name: str
    published_version: int | None
    latest_version: int
    versions: list[LibraryVersionOut]
    created_at: datetime
    updated_at: datetime
