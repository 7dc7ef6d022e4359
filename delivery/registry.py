"""Which provider serves each channel: one per channel, names unique, as listmonk's messenger registry."""

from __future__ import annotations

from collections.abc import Iterator

from delivery.base import Channel, Provider


class ProviderRegistry:
    """Channel -> provider, filled once at start-up and read by the outbox workers."""

    def __init__(self) -> None:
        self._by_channel: dict[Channel, Provider] = {}

    def register(self, provider: Provider) -> None:
        """Add a provider; a second one for a channel or a reused name is a configuration mistake."""
        channel = Channel(provider.channel)
        if channel in self._by_channel:
            existing = self._by_channel[channel].name
            raise ValueError(f"channel {channel} already served by provider {existing!r}")
        if any(p.name == provider.name for p in self._by_channel.values()):
            raise ValueError(f"a provider named {provider.name!r} is already registered")
        self._by_channel[channel] = provider

    def for_channel(self, channel: Channel) -> Provider:
        """The provider of `channel`; KeyError naming the channel when none was registered."""
        try:
            return self._by_channel[Channel(channel)]
        except KeyError:
            known = ", ".join(sorted(self._by_channel)) or "none"
            raise KeyError(f"no provider registered for channel {channel!r} (registered: {known})") from None

    def by_name(self, name: str) -> Provider:
        """The provider called `name` (webhooks name their provider); KeyError when unknown."""
        for provider in self._by_channel.values():
            if provider.name == name:
                return provider
        raise KeyError(f"no provider named {name!r}")

    def __iter__(self) -> Iterator[Provider]:
        return iter(list(self._by_channel.values()))

    def __len__(self) -> int:
        return len(self._by_channel)

    def close_all(self) -> None:
        """Close every provider, even when one of them fails to close; re-raise the first failure."""
        first_error: Exception | None = None
        for provider in self._by_channel.values():
            try:
                provider.close()
            except Exception as exc:  # one broken provider must not leak the others' connections
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
