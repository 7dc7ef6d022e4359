"""API shapes of webhook endpoints and their deliveries; the secret appears only where it is issued."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ccm.validation import Line
from ccm.webhooks.events import WebhookEventType

Url = Annotated[Line, Field(min_length=8, max_length=2000, description="https URL receiving the POSTs")]
Events = Annotated[list[WebhookEventType], Field(min_length=1, max_length=20)]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events
    description: Annotated[Line, Field(max_length=200)] = ""


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    description: Annotated[Line, Field(max_length=200)] | None = None
    enabled: bool | None = Field(
        default=None, description="true re-enables an endpoint disabled after failures"
    )


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="until then deliveries are signed under the previous secret too (after a rotation)"
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="the whsec_ signing secret: shown in this response only")


class EndpointList(BaseModel):
    endpoints: list[EndpointOut]


class DeliveryOut(BaseModel):
    id: str = Field(description="the webhook-id header, the same on every attempt")
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
