"""The one interface every channel provider speaks, and the normalised results it returns.

Providers are stateless apart from their connections: the service decides what to send and records the
outcome; a provider only hands bytes to the outside world and says how that went, in one vocabulary shared
by every provider so that retry and failover logic never needs to know which provider it talks to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class Channel(StrEnum):
    """The built-in channels, named for the providers made for them; the service may register more.

    A channel is an open string key everywhere else (messages, the generic providers, the outbox), so
    these are constants to compare with `==`, not the set of allowed values.
    """

    EMAIL = "email"
    SMS = "sms"
    PDF = "pdf"


class Outcome(StrEnum):
    """What a hand-off attempt means for the message: done, try again later, or give up."""

    ACCEPTED = "accepted"
    TRANSIENT_ERROR = "transient_error"
    PERMANENT_ERROR = "permanent_error"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Exactly what is handed to a provider; `payload` is the archived bytes, unchanged."""

    message_id: str
    channel: str
    recipient: str
    sender: str
    payload: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


class FailureReason(StrEnum):
    """Why failover passed a provider over: a small fixed vocabulary, fit for a metric label."""

    TRANSIENT_ERROR = "transient_error"
    """It answered with `Outcome.TRANSIENT_ERROR` (or raised, which counts the same)."""
    CIRCUIT_OPEN = "circuit_open"
    """Its circuit breaker was open, so it was skipped without being called."""


@dataclass(frozen=True, slots=True)
class ProviderFailure:
    """One provider that failover passed over on the way to a result: which one, why, in its own words."""

    provider: str
    reason: FailureReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    provider: str
    provider_message_id: str | None = None
    detail: str = ""
    recipient_rejected: bool = False
    """The provider refused the recipient address itself (a synchronous hard bounce): suppress it."""
    failed_legs: tuple[ProviderFailure, ...] = ()
    """The providers tried (or skipped) before `provider` answered, in order; empty without failover.

    When no provider took the message, `provider` is the failover chain's own name and every provider
    of the chain is here."""

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class ProviderEventType(StrEnum):
    """Provider-reported lifecycle events, the same words for every provider (as Novu normalises them)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    provider: str
    provider_message_id: str
    type: ProviderEventType
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """A channel provider. `send` never raises for delivery problems: it returns a `DeliveryResult`."""

    name: str
    channel: str

    def send(self, message: OutgoingMessage) -> DeliveryResult: ...

    def close(self) -> None: ...


class ProviderConfigurationError(ValueError):
    """A provider was asked for with settings it cannot work with (raised at start-up, not per message)."""


def check_channel_name(channel: object) -> str:
    """The channel as a plain string, or ProviderConfigurationError at start-up.

    Channels become file names and URL parts downstream, so they are held to a short lowercase
    identifier rather than trusted as given.
    """
    if not isinstance(channel, str) or not _CHANNEL_NAME.fullmatch(channel):
        raise ProviderConfigurationError(
            f"channel must be a lowercase identifier of at most 32 characters, not {channel!r}"
        )
    return str(channel)
