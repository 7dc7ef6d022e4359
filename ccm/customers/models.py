"""The CRM record ccm personalises from, the customer's channel opt-outs, and suppressed addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ccm.database import CHANNEL_KEY_LENGTH, JSONType, UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, unique=True)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=20)
    locale: str = Field(default="en", max_length=35)
    timezone: str = Field(default="UTC", max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Unsubscription(SQLModel, table=True):
    """An opt-out from marketing on one channel; transactional messages are not affected."""

    __tablename__ = "unsubscriptions"
    __table_args__ = (UniqueConstraint("customer_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    source: str = Field(max_length=50)
    message_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Suppression(SQLModel, table=True):
    """An address that must not be sent to again (hard bounce, complaint, or an operator's decision)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    address: str = Field(max_length=320)
    reason: str = Field(max_length=30)
    detail: str = Field(default="", max_length=1000)
    source: str = Field(default="", max_length=50)
    message_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Topic(SQLModel, table=True):
    """What a marketing message is about (newsletter, offers, surveys), on the channels it is sent by."""

    __tablename__ = "topics"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    channels: list[str] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Consent(SQLModel, table=True):
    """A customer's current consent on one channel for one topic (`topic` "" is the channel as a whole:
    double opt-in's confirmation); the newest `ConsentEvent` of the same key, kept for cheap reads."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("customer_id", "channel", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    topic: str = Field(default="", max_length=100)
    state: str = Field(max_length=20)
    source: str = Field(max_length=50)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsentEvent(SQLModel, table=True):
    """One change of consent, never altered: the history a regulator may ask for."""

    __tablename__ = "consent_events"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=CHANNEL_KEY_LENGTH)
    topic: str = Field(default="", max_length=100)
    state: str = Field(max_length=20)
    source: str = Field(max_length=50)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CustomerAttribute(SQLModel, table=True):
    """A custom attribute declared once with its type, so every write of it is checked (`attribute_types`)."""

    __tablename__ = "customer_attributes"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    type: str = Field(max_length=10)
    values: list[str] | None = Field(default=None, sa_type=JSONType)
    description: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Segment(SQLModel, table=True):
    """A saved rule tree (`ccm.customers.segment_rules`) that campaigns and previews name by its key."""

    __tablename__ = "segments"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    rule: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
