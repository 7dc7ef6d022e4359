"""Stateless channel providers: one protocol, one module per provider, normalised results and events."""

from delivery.base import (
    Channel,
    DeliveryResult,
    Outcome,
    OutgoingMessage,
    Provider,
    ProviderConfigurationError,
    ProviderEvent,
    ProviderEventType,
)
from delivery.dkim import DEFAULT_SIGNED_HEADERS, DkimKeyring, DkimSigner
from delivery.dsn import DeliveryStatusNotification, DsnRecipient, dsn_events, parse_dsn
from delivery.outbox import OutboxEntry, OutboxProvider, list_outbox, read_outbox
from delivery.routing import (
    BreakerState,
    CircuitBreaker,
    FailoverProvider,
    LimitedProvider,
    ProviderRoutes,
    RateLimiter,
)
from delivery.ses import SesProvider
from delivery.sms_payload import parse_sms_payload
from delivery.smtp import SmtpProvider
from delivery.sns_notifications import (
    SnsMessage,
    SnsMessageVerifier,
    SnsVerificationError,
    canonical_string,
    check_signing_cert_url,
    parse_ses_event,
    ses_events_from_sns,
)
from delivery.sns_sms import SnsSmsProvider
from delivery.twilio import (
    TwilioSmsProvider,
    compute_twilio_signature,
    parse_status_callback,
    verify_twilio_signature,
)
from delivery.webhook import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    WebhookProvider,
    envelope_bytes,
    sign_webhook,
    verify_webhook_signature,
)

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
    "MESSAGE_ID_HEADER",
    "SIGNATURE_HEADER",
    "BreakerState",
    "Channel",
    "CircuitBreaker",
    "DeliveryResult",
    "DeliveryStatusNotification",
    "DkimKeyring",
    "DkimSigner",
    "DsnRecipient",
    "FailoverProvider",
    "LimitedProvider",
    "OutboxEntry",
    "OutboxProvider",
    "Outcome",
    "OutgoingMessage",
    "Provider",
    "ProviderConfigurationError",
    "ProviderEvent",
    "ProviderEventType",
    "ProviderRoutes",
    "RateLimiter",
    "SesProvider",
    "SmtpProvider",
    "SnsMessage",
    "SnsMessageVerifier",
    "SnsSmsProvider",
    "SnsVerificationError",
    "TwilioSmsProvider",
    "WebhookProvider",
    "canonical_string",
    "check_signing_cert_url",
    "compute_twilio_signature",
    "dsn_events",
    "envelope_bytes",
    "list_outbox",
    "parse_dsn",
    "parse_ses_event",
    "parse_sms_payload",
    "parse_status_callback",
    "read_outbox",
    "ses_events_from_sns",
    "sign_webhook",
    "verify_twilio_signature",
    "verify_webhook_signature",
]
