"""Failover across providers of one channel, circuit breakers, and per-provider rate and concurrency limits.

`FailoverProvider` is itself a `Provider`: it tries its providers in order and moves on only after a
TRANSIENT_ERROR (the provider could not take the message now); a PERMANENT_ERROR stops it, because that is
about the message or recipient, which the next provider would refuse too. Each provider sits behind a
`CircuitBreaker`, so one that keeps failing is skipped for a cooldown instead of costing every message a
timeout; after the cooldown one probe message decides whether it is back. Each provider passed over is
named in the result's `failed_legs` (a `ProviderFailure`: provider, reason, detail), so a failover that
ends well still shows what failed on the way.

`LimitedProvider` wraps a provider with a token-bucket `RateLimiter` and a concurrency cap: a send waits for
its turn (up to `max_wait`) rather than failing, and only a wait that would exceed it is a TRANSIENT_ERROR.
Clocks (and the limiter's sleep) are injectable, so tests drive time instead of sleeping.

`ProviderRoutes` is the table the service builds from these at start-up: which provider, or failover chain,
carries each channel (optionally per message category).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from enum import StrEnum

from delivery.base import (
    DeliveryResult,
    FailureReason,
    Outcome,
    OutgoingMessage,
    Provider,
    ProviderConfigurationError,
    ProviderFailure,
)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `cooldown` s lets one probe through."""

    def __init__(
        self, *, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        if failure_threshold < 1 or cooldown < 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown >= 0")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at = 0.0
        self._state = BreakerState.CLOSED
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cooldown is over reads as half-open)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown:
                return BreakerState.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one caller (the probe) gets True."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if self._clock() - self._opened_at < self.cooldown:
                    return False
                self._state = BreakerState.HALF_OPEN
            if self._probing:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        """The provider answered: close the breaker and forget earlier failures."""
        with self._lock:
            self._failures = 0
            self._probing = False
            self._state = BreakerState.CLOSED

    def record_failure(self) -> None:
        """A transient failure: a failed probe reopens at once, otherwise open at the threshold."""
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
            self._probing = False


class FailoverProvider:
    """Tries `providers` in order, each behind its own circuit breaker; says which one accepted."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Clock = time.monotonic,
        name: str = "failover",
    ) -> None:
        if not providers:
            raise ProviderConfigurationError("failover needs at least one provider")
        channels = {str(p.channel) for p in providers}
        if len(channels) != 1:
            raise ProviderConfigurationError(
                f"failover providers must share one channel, not {sorted(channels)}"
            )
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ProviderConfigurationError(f"failover provider names must be unique: {names}")
        self.name = name
        self.channel = channels.pop()
        self.providers = tuple(providers)
        self.breakers = {
            p.name: CircuitBreaker(failure_threshold=failure_threshold, cooldown=cooldown, clock=clock)
            for p in providers
        }

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """The first acceptance (naming its provider), the first permanent error, or a transient error.

        Every provider passed over on the way is in the result's `failed_legs`, so a failover that ends
        well still shows which provider failed and why.
        """
        legs: list[ProviderFailure] = []
        for provider in self.providers:
            breaker = self.breakers[provider.name]
            if not breaker.allow():
                legs.append(
                    ProviderFailure(provider.name, FailureReason.CIRCUIT_OPEN, "skipped, circuit open")
                )
                continue
            result = _send_safely(provider, message)
            if result.outcome is Outcome.TRANSIENT_ERROR:
                breaker.record_failure()
                legs.append(ProviderFailure(provider.name, FailureReason.TRANSIENT_ERROR, result.detail))
                continue
            breaker.record_success()  # accepted, or refused the message: either way the provider works
            if not legs:
                return result
            own = result.detail or f"{provider.name}: {result.outcome}"
            return replace(result, detail=_describe(legs, own), failed_legs=tuple(legs))
        return DeliveryResult(
            Outcome.TRANSIENT_ERROR,
            self.name,
            None,
            "no provider took it: " + _describe(legs),
            failed_legs=tuple(legs),
        )

    def states(self) -> dict[str, BreakerState]:
        """Each provider's breaker state (for health checks and metrics)."""
        return {name: breaker.state for name, breaker in self.breakers.items()}

    def close(self) -> None:
        """Close every provider, even when one fails to close; re-raise the first failure."""
        _close_all(self.providers)


class RateLimiter:
    """A token bucket: `rate` tokens per second, at most `burst` saved up; thread-safe."""

    def __init__(
        self, rate: float, burst: int = 1, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def reserve(self, max_wait: float = float("inf")) -> float | None:
        """Take a token, now or later: the seconds to wait for it, or None (nothing taken) if > max_wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            wait = max(0.0, (1.0 - self._tokens) / self.rate)
            if wait > max_wait:
                return None
            self._tokens -= 1.0  # may go negative: later callers queue behind this reservation
            return wait

    def acquire(self, max_wait: float = float("inf")) -> bool:
        """Wait up to `max_wait` seconds for a token; False at once (no wait) when it would take longer."""
        wait = self.reserve(max_wait)
        if wait is None:
            return False
        if wait > 0:
            self._sleep(wait)
        return True


class LimitedProvider:
    """A provider behind a rate limit and a concurrency cap; sends wait their turn up to `max_wait` s."""

    def __init__(
        self,
        provider: Provider,
        *,
        rate_limiter: RateLimiter | None = None,
        max_concurrency: int | None = None,
        max_wait: float = 10.0,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ProviderConfigurationError("max_concurrency must be at least 1")
        self.inner = provider
        self.name = provider.name
        self.channel = provider.channel
        self.rate_limiter = rate_limiter
        self.max_wait = max_wait
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Wait for a free slot, then for a token, then send; TRANSIENT_ERROR if that would take too long."""
        started = time.monotonic()
        if self._slots is not None and not self._slots.acquire(timeout=self.max_wait):
            return DeliveryResult(
                Outcome.TRANSIENT_ERROR,
                self.name,
                None,
                f"{self.name} busy: no free slot in {self.max_wait}s",
            )
        try:
            remaining = max(0.0, self.max_wait - (time.monotonic() - started))
            if self.rate_limiter is not None and not self.rate_limiter.acquire(remaining):
                detail = f"{self.name} rate limit ({self.rate_limiter.rate}/s): a wait over {self.max_wait}s"
                return DeliveryResult(Outcome.TRANSIENT_ERROR, self.name, None, detail)
            return self.inner.send(message)
        finally:
            if self._slots is not None:
                self._slots.release()

    def close(self) -> None:
        """Close the wrapped provider."""
        self.inner.close()


class ProviderRoutes:
    """Channel (and category) -> the provider, or failover chain, that carries it.

    A `"<channel>:<category>"` route overrides the plain `"<channel>"` one, so e.g. marketing email can
    leave through a different provider than receipts without the senders knowing. `owned` lists the
    providers the routes were built from (a provider may serve several routes or sit inside a chain), so
    each is closed exactly once at shutdown.
    """

    def __init__(self, routes: Mapping[str, Provider], owned: Sequence[Provider]) -> None:
        self._routes: dict[str, Provider] = dict(routes)
        self._owned: tuple[Provider, ...] = tuple(owned)

    def for_message(self, channel: str, category: str) -> Provider:
        """The category's own route if it has one, else the channel's; a gap is a configuration error."""
        provider = self._routes.get(f"{channel}:{category}")
        if provider is None:
            provider = self._routes.get(channel)
        if provider is None:
            raise ProviderConfigurationError(f"no provider is routed for {channel} ({category})")
        return provider

    def describe(self) -> dict[str, str]:
        """Route -> provider name(s) in failover order: what /health and the docs show operators."""
        described: dict[str, str] = {}
        for key, provider in self._routes.items():
            if isinstance(provider, FailoverProvider):
                described[key] = " > ".join(p.name for p in provider.providers)
            else:
                described[key] = provider.name
        return described

    def close_all(self) -> None:
        """Close every owned provider; failures are swallowed, since at shutdown nobody can act on them
        and one broken provider must not leak the others' connections."""
        for provider in self._owned:
            with suppress(Exception):
                provider.close()


def _send_safely(provider: Provider, message: OutgoingMessage) -> DeliveryResult:
    """Providers must not raise; one that does anyway counts as a transient failure, so failover goes on."""
    try:
        return provider.send(message)
    except Exception as exc:
        return DeliveryResult(
            Outcome.TRANSIENT_ERROR, provider.name, None, f"raised {type(exc).__name__}: {exc}"
        )


def _describe(legs: Sequence[ProviderFailure], *last: str) -> str:
    """The legs as one line for logs and `last_error`: `a: timed out; b: skipped, circuit open; ...`."""
    return "; ".join([*(f"{leg.provider}: {leg.detail}" for leg in legs), *last])


def _close_all(providers: Sequence[Provider]) -> None:
    first_error: Exception | None = None
    for provider in providers:
        try:
            provider.close()
        except Exception as exc:  # one broken provider must not leak the others' connections
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
