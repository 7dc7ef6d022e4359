"""Saved segments and their preview on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.validation import JsonObject, Line, TemplateKey, Text

RULE_HELP = (
    '{"all"|"any": [rule, ...]} | {"not": rule} | {"attribute", "op", "value"} (ops: eq, ne, in, not_in, '
    'exists, gt, lt, contains; strict types: true is not 1) | {"consent": {"channel", "topic"?, "state"}} | '
    '{"engagement": {"event", "template"?, "within_days"?}} | '
    '{"nps": {"gte"?, "lte"?, "eq"?, "within_days"?, "template"?}} (the latest NPS answer, 0-10, within '
    "every bound given; a customer without one matches none). `{}` selects every customer."
)


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=2000)] = ""
    rule: JsonObject = Field(description=RULE_HELP)


class SegmentCreate(SegmentIn):
    key: TemplateKey


class SegmentOut(BaseModel):
    key: str
    name: str
    description: str
    rule: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SegmentList(BaseModel):
    segments: list[SegmentOut]


class PreviewRequest(BaseModel):
    """Exactly one of an unsaved `rule` and a saved segment's key."""

    model_config = ConfigDict(extra="forbid")

    rule: JsonObject | None = Field(default=None, description=RULE_HELP)
    segment_key: TemplateKey | None = None

    @model_validator(mode="after")
    def _one_of(self) -> PreviewRequest:
        if (self.rule is None) == (self.segment_key is None):
            raise ValueError("give exactly one of rule and segment_key")
        return self


class SampleCustomer(BaseModel):
    external_id: str
    email: str | None
    phone: str | None
    locale: str


class PreviewOut(BaseModel):
    count: int = Field(description="customers the rule selects now")
    sample: list[SampleCustomer] = Field(description="the first 10 of them by external id")
