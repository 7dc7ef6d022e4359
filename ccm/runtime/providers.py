"""Which provider carries which message: built once from settings, looked up per message.

Routes name providers per channel, optionally per category (`CCM_ROUTES`, e.g.
`{"email:marketing": ["ses"], "email": ["smtp", "ses"], "sms": ["twilio", "sns"]}`); a route of several
providers fails over in order, each behind a circuit breaker. Without routes each channel uses its spec's
default provider (`CCM_EMAIL_PROVIDER`, `CCM_SMS_PROVIDER`; printed documents go to the local outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ccm.channels import all_channels, channel_keys, is_channel
from ccm.settings import Settings
from delivery import (
    Channel,
    FailoverProvider,
    LimitedProvider,
    OutboxProvider,
    Provider,
    ProviderConfigurationError,
    ProviderRoutes,
    RateLimiter,
    SesProvider,
    SmtpProvider,
    SnsSmsProvider,
    TwilioSmsProvider,
    WebhookProvider,
)


@dataclass(frozen=True)
class ProviderKind:
    """One provider, as settings build it: which channels it can carry (None: any) and how it is made."""

    build: Callable[[Settings, str], Provider]
    channels: frozenset[str] | None = None
    per_channel: bool = False
    """One instance per channel (the outbox and webhook write the channel into what they hand over)."""


def build_providers(settings: Settings) -> ProviderRoutes:
    """Every route the settings describe, each provider built once; a route naming a provider that
    cannot carry its channel, or an unknown provider or channel, is refused here, at start-up."""
    instances: dict[tuple[str, str], Provider] = {}
    owned: list[Provider] = []

    def instance(name: str, channel: str) -> Provider:
        kind = PROVIDERS.get(name)
        if kind is None:
            raise ProviderConfigurationError(
                f"unknown provider '{name}' (known: {', '.join(sorted(PROVIDERS))})"
            )
        if kind.channels is not None and channel not in kind.channels:
            raise ProviderConfigurationError(f"provider '{name}' cannot carry {channel}")
        key = (name, channel if kind.per_channel else "*")
        if key not in instances:
            provider = kind.build(settings, channel)
            owned.append(provider)
            instances[key] = _limited(provider, name, settings)
        return instances[key]

    unknown_limits = sorted(set(settings.provider_limits) - set(PROVIDERS))
    if unknown_limits:
        raise ProviderConfigurationError(f"CCM_PROVIDER_LIMITS names unknown providers {unknown_limits}")
    routes: dict[str, Provider] = {}
    for key, names in _route_table(settings).items():
        channel = key.split(":")[0]
        if not is_channel(channel):
            raise ProviderConfigurationError(
                f"route {key!r}: unknown channel (known: {', '.join(channel_keys())})"
            )
        chain = [instance(name, channel) for name in names]
        routes[key] = (
            chain[0]
            if len(chain) == 1
            else FailoverProvider(
                chain,
                failure_threshold=settings.failover_failure_threshold,
                cooldown=settings.failover_cooldown_seconds,
                name=f"{key}-failover",
            )
        )
    return ProviderRoutes(routes, owned)


def _route_table(settings: Settings) -> dict[str, list[str]]:
    """Each registered channel's default provider, overridden by `CCM_ROUTES`."""
    table = {spec.key: [spec.default_provider(settings)] for spec in all_channels()}
    table.update(settings.routes)
    return table


def _limited(provider: Provider, name: str, settings: Settings) -> Provider:
    limits = settings.provider_limits.get(name)
    if not limits:
        return provider
    limiter = None
    if "rate" in limits:
        rate = float(limits["rate"])
        limiter = RateLimiter(rate, int(limits.get("burst", max(1.0, rate))))
    concurrency = int(limits["concurrency"]) if "concurrency" in limits else None
    return LimitedProvider(provider, rate_limiter=limiter, max_concurrency=concurrency)


def _outbox(settings: Settings, channel: str) -> Provider:
    return OutboxProvider(settings.outbox_dir, channel, name=f"{channel}-outbox")


def _smtp(settings: Settings, _channel: str) -> Provider:
    return SmtpProvider(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        use_ssl=settings.smtp_ssl,
        timeout=settings.smtp_timeout,
        pool_size=settings.smtp_pool_size,
    )


def _ses(settings: Settings, _channel: str) -> Provider:
    return SesProvider(
        region=settings.aws_region,
        endpoint_url=settings.ses_endpoint_url,
        configuration_set=settings.ses_configuration_set,
    )


def _twilio(settings: Settings, _channel: str) -> Provider:
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from):
        raise ProviderConfigurationError(
            "twilio needs CCM_TWILIO_ACCOUNT_SID, CCM_TWILIO_AUTH_TOKEN, CCM_TWILIO_FROM"
        )
    return TwilioSmsProvider(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_from,
        base_url=settings.twilio_base_url,
        status_callback_url=f"{settings.base_url}/webhooks/twilio/status",
    )


def _sns(settings: Settings, _channel: str) -> Provider:
    return SnsSmsProvider(
        region=settings.aws_region, endpoint_url=settings.sns_endpoint_url, sender_id=settings.sns_sender_id
    )


def _webhook(settings: Settings, channel: str) -> Provider:
    if not (settings.webhook_url and settings.webhook_secret):
        raise ProviderConfigurationError("the webhook provider needs CCM_WEBHOOK_URL and CCM_WEBHOOK_SECRET")
    return WebhookProvider(settings.webhook_url, settings.webhook_secret, channel, name=f"{channel}-webhook")


PROVIDERS: dict[str, ProviderKind] = {
    "outbox": ProviderKind(_outbox, per_channel=True),
    "webhook": ProviderKind(_webhook, per_channel=True),
    "smtp": ProviderKind(_smtp, frozenset({Channel.EMAIL})),
    "ses": ProviderKind(_ses, frozenset({Channel.EMAIL})),
    "twilio": ProviderKind(_twilio, frozenset({Channel.SMS})),
    "sns": ProviderKind(_sns, frozenset({Channel.SMS})),
}
"""Every provider the settings can name: adding one is a `delivery` module plus one line here."""
