"""Channel -> provider, chosen by settings. The only place that knows which providers exist."""

from __future__ import annotations

from ccm.settings import EmailProviderName, Settings, SmsProviderName
from delivery import Channel, OutboxProvider, Provider, ProviderRegistry, SmtpProvider, TwilioSmsProvider


def build_providers(settings: Settings) -> ProviderRegistry:
    registry = ProviderRegistry()
    registry.register(_email_provider(settings))
    registry.register(_sms_provider(settings))
    registry.register(OutboxProvider(settings.outbox_dir, Channel.PDF, name="print-outbox"))
    return registry


def _email_provider(settings: Settings) -> Provider:
    if settings.email_provider is EmailProviderName.SMTP:
        return SmtpProvider(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_ssl=settings.smtp_ssl,
            timeout=settings.smtp_timeout,
        )
    return OutboxProvider(settings.outbox_dir, Channel.EMAIL, name="email-outbox")


def _sms_provider(settings: Settings) -> Provider:
    if settings.sms_provider is SmsProviderName.TWILIO:
        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
        return TwilioSmsProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
            base_url=settings.twilio_base_url,
            status_callback_url=f"{settings.base_url}/webhooks/twilio/status",
        )
    return OutboxProvider(settings.outbox_dir, Channel.SMS, name="sms-outbox")
