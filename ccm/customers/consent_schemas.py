"""Topic and consent shapes on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ccm.channels import get_channel
from ccm.channels.parts import ChannelKey
from ccm.validation import Line, TemplateKey, Text


def _consentable(channel: str) -> str:
    if not get_channel(channel).marketing_consent:
        raise ValueError(f"the {channel} channel carries no marketing, so it has no consent")
    return channel


ConsentChannel = Annotated[ChannelKey, AfterValidator(_consentable)]
TopicKey = TemplateKey
Source = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=2000)] = ""
    channels: Annotated[list[ConsentChannel], Field(min_length=1, max_length=10)]


class TopicCreate(TopicIn):
    key: TopicKey


class TopicOut(BaseModel):
    key: str
    name: str
    description: str
    channels: list[str]
    created_at: datetime
    updated_at: datetime


class TopicList(BaseModel):
    topics: list[TopicOut]


class ConsentChange(BaseModel):
    """One consent to set: a topic on a channel, or (`topic` null) the channel as a whole."""

    model_config = ConfigDict(extra="forbid")

    channel: ConsentChannel
    topic: TopicKey | None = None
    state: Literal["granted", "revoked"]


class ConsentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consents: Annotated[list[ConsentChange], Field(min_length=1, max_length=200)]
    source: Source = "api"


class ChannelConsent(BaseModel):
    channel: str
    state: Literal["granted", "revoked", "pending"]
    """`granted` also when nothing was recorded: without a record a customer counts as opted in."""


class TopicConsent(BaseModel):
    topic: str
    channel: str
    state: Literal["granted", "revoked"]
    recorded: bool = Field(description="false: no record, so the default (opted in) applies")


class ConsentHistoryEntry(BaseModel):
    channel: str
    topic: str | None
    state: str
    source: str
    detail: dict[str, Any]
    at: datetime


class ConsentOut(BaseModel):
    external_id: str
    channels: list[ChannelConsent]
    topics: list[TopicConsent]
    unsubscribed_channels: list[str]
    history: list[ConsentHistoryEntry]
