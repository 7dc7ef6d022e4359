"""ProviderRegistry: exactly one provider per channel, unique names, everything closed at shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from delivery import (
    Channel,
    DeliveryResult,
    OutboxProvider,
    Outcome,
    OutgoingMessage,
    Provider,
    ProviderRegistry,
)


class ClosingProvider:
    """A provider that only records whether it was closed (or fails to close)."""

    def __init__(self, name: str, channel: Channel, *, broken: bool = False) -> None:
        self.name, self.channel, self.broken, self.closed = name, channel, broken, False

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult(Outcome.ACCEPTED, self.name)

    def close(self) -> None:
        self.closed = True
        if self.broken:
            raise RuntimeError("close failed")


def test_registered_providers_are_found_by_channel_and_name(tmp_path: Path) -> None:
    registry = ProviderRegistry()
    email = OutboxProvider(tmp_path, Channel.EMAIL, name="email-outbox")
    registry.register(email)
    registry.register(OutboxProvider(tmp_path, Channel.SMS, name="sms-outbox"))

    assert registry.for_channel(Channel.EMAIL) is email
    assert registry.by_name("sms-outbox").channel is Channel.SMS
    assert isinstance(email, Provider)
    assert len(registry) == 2


def test_second_provider_for_a_channel_is_refused(tmp_path: Path) -> None:
    registry = ProviderRegistry()
    registry.register(OutboxProvider(tmp_path, Channel.EMAIL, name="a"))

    with pytest.raises(ValueError, match="already served"):
        registry.register(OutboxProvider(tmp_path, Channel.EMAIL, name="b"))


def test_duplicate_name_is_refused(tmp_path: Path) -> None:
    registry = ProviderRegistry()
    registry.register(OutboxProvider(tmp_path, Channel.EMAIL))

    with pytest.raises(ValueError, match="outbox"):
        registry.register(OutboxProvider(tmp_path, Channel.SMS))


def test_missing_channel_names_it() -> None:
    with pytest.raises(KeyError, match="pdf"):
        ProviderRegistry().for_channel(Channel.PDF)


def test_close_all_closes_every_provider_even_after_a_failure() -> None:
    registry = ProviderRegistry()
    broken = ClosingProvider("broken", Channel.EMAIL, broken=True)
    fine = ClosingProvider("fine", Channel.SMS)
    registry.register(broken)
    registry.register(fine)

    with pytest.raises(RuntimeError, match="close failed"):
        registry.close_all()

    assert broken.closed
    assert fine.closed
