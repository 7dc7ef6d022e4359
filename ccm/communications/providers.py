"""Which provider carries which message: built once from settings, looked up per message.

Routes name providers per channel, optionally per category (`CCM_ROUTES`, e.g.
`{"email:marketing": ["ses"], "email": ["smtp", "ses"], "sms": ["twilio", "sns"]}`); a route of several
providers fails over in order, each behind a circuit breaker. Without routes each channel uses the provider
`CCM_EMAIL_PROVIDER` / `CCM_SMS_PROVIDER` names, and printed documents go to the local outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from ccm.settings import Settings
from delivery import (
    Channel,
    DkimKeyring,
    DkimSigner,
    FailoverProvider,
    LimitedProvider,
    OutboxProvider,
    Provider,
    ProviderConfigurationError,
    RateLimiter,
    SesProvider,
    SmtpProvider,
    SnsSmsProvider,
    TwilioSmsProvider,
    WebhookProvider,
)

CHANNELS_OF = {
    "outbox": {"email", "sms", "pdf"},
    "webhook": {"email", "sms", "pdf"},
    "smtp": {"email"},
    "ses": {"email"},
    "twilio": {"sms"},
    "sns": {"sms"},
}


class ProviderRoutes:
    """Channel (and category) -> the provider, or failover chain, that carries it."""

    def __init__(self, routes: dict[str, Provider], owned: list[Provider]) -> None:
        self._routes = routes
        self._owned = owned

    def for_message(self, channel: str, category: str) -> Provider:
        provider = self._routes.get(f"{channel}:{category}") or self._routes.get(channel)
        if provider is None:
            raise ProviderConfigurationError(f"no provider is routed for {channel} ({category})")
        return provider

    def describe(self) -> dict[str, str]:
        """Route -> provider name(s), for /health and the docs."""
        described = {}
        for key, provider in self._routes.items():
            if isinstance(provider, FailoverProvider):
                described[key] = " > ".join(p.name for p in provider.providers)
            else:
                described[key] = provider.name
        return described

    def close_all(self) -> None:
        for provider in self._owned:
            with suppress(Exception):
                provider.close()


def build_providers(settings: Settings) -> ProviderRoutes:
    instances: dict[tuple[str, str], Provider] = {}
    owned: list[Provider] = []

    def instance(name: str, channel: str) -> Provider:
        if channel not in CHANNELS_OF[name]:
            raise ProviderConfigurationError(f"provider '{name}' cannot carry {channel}")
        key = (name, channel if name in ("outbox", "webhook") else "*")
        if key not in instances:
            provider = _FACTORIES[name](settings, Channel(channel))
            owned.append(provider)
            instances[key] = _limited(provider, name, settings)
        return instances[key]

    routes: dict[str, Provider] = {}
    for key, names in _route_table(settings).items():
        channel = key.split(":")[0]
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
    table = {
        "email": [settings.email_provider.value],
        "sms": [settings.sms_provider.value],
        "pdf": ["outbox"],
    }
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


def dkim_keyring(settings: Settings) -> DkimKeyring | None:
    """The DKIM signer of the sending domain, when one is configured; emails are signed before archiving."""
    if not (settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key_file):
        return None
    pem = settings.dkim_private_key_file.read_bytes()
    return DkimKeyring([DkimSigner(settings.dkim_domain, settings.dkim_selector, pem)])


def _outbox(settings: Settings, channel: Channel) -> Provider:
    name = "print-outbox" if channel is Channel.PDF else f"{channel.value}-outbox"
    return OutboxProvider(settings.outbox_dir, channel, name=name)


def _smtp(settings: Settings, _channel: Channel) -> Provider:
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


def _ses(settings: Settings, _channel: Channel) -> Provider:
    return SesProvider(
        region=settings.aws_region,
        endpoint_url=settings.ses_endpoint_url,
        configuration_set=settings.ses_configuration_set,
    )


def _twilio(settings: Settings, _channel: Channel) -> Provider:
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


def _sns(settings: Settings, _channel: Channel) -> Provider:
    return SnsSmsProvider(
        region=settings.aws_region, endpoint_url=settings.sns_endpoint_url, sender_id=settings.sns_sender_id
    )


def _webhook(settings: Settings, channel: Channel) -> Provider:
    if not (settings.webhook_url and settings.webhook_secret):
        raise ProviderConfigurationError("the webhook provider needs CCM_WEBHOOK_URL and CCM_WEBHOOK_SECRET")
    return WebhookProvider(
        settings.webhook_url, settings.webhook_secret, channel, name=f"{channel.value}-webhook"
    )


_FACTORIES: dict[str, Callable[[Settings, Channel], Provider]] = {
    "outbox": _outbox,
    "smtp": _smtp,
    "ses": _ses,
    "twilio": _twilio,
    "sns": _sns,
    "webhook": _webhook,
}
