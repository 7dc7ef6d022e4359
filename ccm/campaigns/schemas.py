"""Campaign requests and views on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ccm.channels.parts import ChannelList
from ccm.customers.segment_schemas import RULE_HELP
from ccm.validation import JsonObject, Line, TemplateKey

LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]


class QuietHours(BaseModel):
    """Local times between which nothing is delivered; `start` after `end` spans midnight."""

    model_config = ConfigDict(extra="forbid")

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class FrequencyCap(BaseModel):
    """At most `max_messages` marketing messages per customer in the rolling `period_hours`."""

    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(ge=1, le=1000)
    period_hours: int = Field(ge=1, le=24 * 90)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    template: TemplateKey
    segment: JsonObject = Field(
        default_factory=dict, description=f"the rule, as in /v1/segments: {RULE_HELP}"
    )
    segment_key: TemplateKey | None = Field(
        default=None, description="a saved segment (/v1/segments) instead of `segment`; its rule is copied"
    )
    channels: ChannelList | None = None
    data: JsonObject = Field(default_factory=dict)
    send_at: datetime | None = Field(default=None, description="fan out at this time (default: now)")
    local_time: LocalTime | None = Field(default=None, description="deliver at this local time per recipient")
    local_date: date | None = Field(default=None, description="the day of `local_time`")
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    throttle_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)

    @field_validator("send_at")
    @classmethod
    def _reasonable(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 2000 <= value.year <= 2200:
            raise ValueError("must be between the years 2000 and 2200")
        return value

    @field_validator("local_date")
    @classmethod
    def _reasonable_date(cls, value: date | None) -> date | None:
        if value is not None and not 2000 <= value.year <= 2200:
            raise ValueError("must be between the years 2000 and 2200")
        return value


class CampaignProgress(BaseModel):
    targeted: int = Field(description="customers in the segment considered so far (per channel)")
    queued: int
    skipped: dict[str, int] = Field(description="recipients skipped, by reason")
    messages: dict[str, int] = Field(description="the campaign's messages by state")
    batches: int
    checkpoint_customer_id: int


class CampaignOut(BaseModel):
    id: int
    name: str
    template: str
    template_version: int
    channels: list[str]
    segment: dict[str, Any]
    status: str
    send_at: datetime | None
    local_time: str | None
    local_date: str | None
    quiet_hours: dict[str, str] | None
    frequency_cap: dict[str, int] | None
    throttle_per_minute: int | None
    fanout_at: datetime
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    progress: CampaignProgress


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    limit: int
    offset: int
