"""Customer shapes on the wire; email, phone, locale and timezone are validated before they are stored."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from ccm.channels import get_channel
from ccm.channels.parts import ChannelKey
from ccm.customers import email_domains, phone_validity
from ccm.engagement.schemas import EngagementSummary, TimelineEvent
from ccm.validation import Identifier, JsonObject

email_domains.install()  # `EmailStr` below checks each domain once, not once per address
phone_validity.install()  # `normalise_phone` matches precompiled patterns


def _suppressible(channel: str) -> str:
    if not get_channel(channel).suppressible:
        raise ValueError(f"the {channel} channel has no suppression list")
    return channel


SuppressibleChannel = Annotated[ChannelKey, AfterValidator(_suppressible)]


PHONE_LIMIT = 20
"""The longest phone value a body may send (E.164 is at most 16 characters; spaces and dashes may be sent)."""


def normalise_phone(value: str) -> str:
    """E.164 or nothing: the number must carry its country code and be a possible number."""
    if not value.startswith("+"):
        raise ValueError("phone must be in E.164 format, e.g. +393471234567")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"phone is not a valid number: {error}") from None
    if not phone_validity.is_valid_number(number):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1024)
def normalise_locale(value: str) -> str:
    """A locale Babel knows, written the POSIX way (`it`, `de_CH`); remembered, since an import file repeats a
    handful of locales a million times (a refused one is not remembered and raises again)."""
    if len(value) > 35 or not value.replace("-", "_").replace("_", "").isalnum():
        raise ValueError(f"unknown locale '{value}'")
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale '{value}'") from None


def normalise_timezone(value: str) -> str:
    if len(value) > 64 or "\x00" in value or value.startswith(("/", ".")) or ".." in value:
        raise ValueError(f"unknown timezone '{value}'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone '{value}'") from None
    return value


class CustomerUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Internationalised addresses are welcome (RFC 6531): email-validator NFC-normalises the local part and
    # gives an IDN domain in Unicode even when it arrives as punycode, so each address has one stored form
    # (the service lower-cases it). Punycode and SMTPUTF8 are the wire's business (renderers.mime,
    # delivery.smtp).
    email: Annotated[EmailStr, Field(max_length=320)] | None = None
    phone: Annotated[str, Field(max_length=PHONE_LIMIT)] | None = None
    locale: Annotated[str, Field(max_length=35)] = "en"
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    attributes: JsonObject = Field(default_factory=dict)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return normalise_locale(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return normalise_timezone(value)


class Consent(BaseModel):
    unsubscribed_channels: list[str]


class CustomerOut(BaseModel):
    external_id: str
    email: str | None
    phone: str | None
    locale: str
    timezone: str
    attributes: dict[str, Any]
    consent: Consent
    engagement: EngagementSummary
    created_at: datetime
    updated_at: datetime


class CustomerList(BaseModel):
    customers: list[CustomerOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


MAX_BATCH = 1000


class CustomerBatchItem(CustomerUpsert):
    """One upsert of a batch: the `PUT /v1/customers/{id}` body plus the id."""

    external_id: Identifier


class CustomerBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: Annotated[
        list[dict[str, Any]],
        Field(
            min_length=1,
            max_length=MAX_BATCH,
            description="each item the `PUT /v1/customers/{id}` body plus `external_id`; items are "
            "validated one by one, so a bad item is reported in its result and the others still land",
        ),
    ]


class BatchItemError(BaseModel):
    code: str
    message: str
    field: str | None


class CustomerBatchResult(BaseModel):
    index: int
    external_id: str | None
    status: Literal["created", "updated", "error"]
    error: BatchItemError | None = None


class CustomerBatchResponse(BaseModel):
    results: list[CustomerBatchResult]


class Timeline(BaseModel):
    external_id: str
    events: list[TimelineEvent]
    next_before_id: int | None


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SuppressibleChannel
    address: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^\x00-\x1f\s]+$")]
    reason: Literal["manual", "hard_bounce", "complaint"] = "manual"
    detail: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""


class SuppressionOut(BaseModel):
    channel: str
    address: str
    reason: str
    detail: str
    source: str
    message_id: str | None
    created_at: datetime
