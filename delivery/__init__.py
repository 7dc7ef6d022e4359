"""Stateless channel providers: one protocol, one module per provider, normalised results and events."""

from delivery.base import (
    Channel,
    DeliveryResult,
    EventType,
    Outcome,
    OutgoingMessage,
    Provider,
    ProviderConfigurationError,
    ProviderEvent,
)
from delivery.outbox import OutboxEntry, OutboxProvider, list_outbox, read_outbox
from delivery.registry import ProviderRegistry
from delivery.smtp import SmtpProvider
from delivery.twilio import (
    TwilioSmsProvider,
    compute_twilio_signature,
    parse_status_callback,
    verify_twilio_signature,
)

__all__ = [
    "Channel",
    "DeliveryResult",
    "EventType",
    "OutboxEntry",
    "OutboxProvider",
    "Outcome",
    "OutgoingMessage",
    "Provider",
    "ProviderConfigurationError",
    "ProviderEvent",
    "ProviderRegistry",
    "SmtpProvider",
    "TwilioSmsProvider",
    "compute_twilio_signature",
    "list_outbox",
    "parse_status_callback",
    "read_outbox",
    "verify_twilio_signature",
]
