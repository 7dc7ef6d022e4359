"""FailoverProvider, CircuitBreaker, RateLimiter, LimitedProvider: fakes on a driven clock, then real SMTP.

ProviderRoutes: category routes before channel routes, and a shutdown that closes everything it owns.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from delivery import (
    BreakerState,
    Channel,
    CircuitBreaker,
    DeliveryResult,
    FailoverProvider,
    LimitedProvider,
    OutboxProvider,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    ProviderRoutes,
    RateLimiter,
    SmtpProvider,
)
from delivery.base import FailureReason, ProviderFailure
from tests.fixtures.smtp import SmtpServerFactory

PAYLOAD = b"From: shop@example.com\r\nTo: anna@example.org\r\nSubject: hi\r\n\r\nhello\r\n"


def email(message_id: str = "m1") -> OutgoingMessage:
    return OutgoingMessage(
        message_id, Channel.EMAIL, "anna@example.org", "shop@example.com", PAYLOAD, "message/rfc822"
    )


class FakeClock:
    """Time that moves only when told to (sleep advances it too)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ScriptedProvider:
    """Answers with the outcomes it is given (the last one repeats) and counts calls."""

    channel: str = Channel.EMAIL

    def __init__(self, name: str, *outcomes: Outcome) -> None:
        self.name = name
        self.outcomes = list(outcomes) or [Outcome.ACCEPTED]
        self.calls = 0
        self.closed = False

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        provider_id = f"{self.name}-{self.calls}" if outcome is Outcome.ACCEPTED else None
        return DeliveryResult(outcome, self.name, provider_id, f"{self.name} says {outcome}")

    def close(self) -> None:
        self.closed = True


def test_transient_error_fails_over_to_the_next_provider() -> None:
    a, b = ScriptedProvider("a", Outcome.TRANSIENT_ERROR), ScriptedProvider("b")
    failover = FailoverProvider([a, b])

    result = failover.send(email())

    assert result.outcome is Outcome.ACCEPTED
    assert result.provider == "b"
    assert result.provider_message_id == "b-1"
    assert "a: a says transient_error" in result.detail


def test_permanent_error_stops_failover() -> None:
    a, b = ScriptedProvider("a", Outcome.PERMANENT_ERROR), ScriptedProvider("b")

    result = FailoverProvider([a, b]).send(email())

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert result.provider == "a"
    assert b.calls == 0


def test_all_transient_is_transient() -> None:
    a, b = ScriptedProvider("a", Outcome.TRANSIENT_ERROR), ScriptedProvider("b", Outcome.TRANSIENT_ERROR)

    result = FailoverProvider([a, b], name="email-route").send(email())

    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert result.provider == "email-route"
    assert "a says" in result.detail and "b says" in result.detail


def test_a_raising_provider_counts_as_transient() -> None:
    class Broken(ScriptedProvider):
        def send(self, message: OutgoingMessage) -> DeliveryResult:
            raise RuntimeError("bug")

    result = FailoverProvider([Broken("a"), ScriptedProvider("b")]).send(email())

    assert result.provider == "b"
    assert "raised RuntimeError: bug" in result.detail


def test_circuit_opens_skips_and_probes_after_the_cooldown() -> None:
    clock = FakeClock()
    a = ScriptedProvider("a", *[Outcome.TRANSIENT_ERROR] * 4, Outcome.ACCEPTED)
    b = ScriptedProvider("b")
    failover = FailoverProvider([a, b], failure_threshold=3, cooldown=60, clock=clock)

    for i in range(3):
        assert failover.send(email(f"m{i}")).provider == "b"
    assert failover.states()["a"] is BreakerState.OPEN
    assert a.calls == 3

    result = failover.send(email("skipped"))
    assert a.calls == 3  # skipped while open
    assert "a: skipped, circuit open" in result.detail

    clock.now += 60
    assert failover.states()["a"] is BreakerState.HALF_OPEN
    assert failover.send(email("probe-fails")).provider == "b"
    assert a.calls == 4
    assert failover.states()["a"] is BreakerState.OPEN  # a failed probe reopens at once

    clock.now += 60
    assert failover.send(email("probe-succeeds")).provider == "a"
    assert failover.states()["a"] is BreakerState.CLOSED


def test_half_open_breaker_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()

    clock.now += 10
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else waits for its outcome
    breaker.record_success()
    assert breaker.allow() and breaker.allow()


def test_a_failover_that_ends_well_still_names_the_failed_leg() -> None:
    a, b = ScriptedProvider("a", Outcome.TRANSIENT_ERROR), ScriptedProvider("b")

    result = FailoverProvider([a, b]).send(email())

    assert result.accepted and result.provider == "b"
    assert result.failed_legs == (
        ProviderFailure("a", FailureReason.TRANSIENT_ERROR, "a says transient_error"),
    )


def test_a_first_time_acceptance_has_no_failed_legs() -> None:
    result = FailoverProvider([ScriptedProvider("a"), ScriptedProvider("b")]).send(email())

    assert result.provider == "a" and result.failed_legs == ()


def test_every_leg_is_named_when_no_provider_takes_it() -> None:
    clock = FakeClock()
    a = ScriptedProvider("a", Outcome.TRANSIENT_ERROR)
    b = ScriptedProvider("b", Outcome.TRANSIENT_ERROR)
    failover = FailoverProvider([a, b], failure_threshold=1, cooldown=60, clock=clock, name="route")
    failover.send(email("opens-a-and-b"))

    result = failover.send(email("both-open"))

    assert result.outcome is Outcome.TRANSIENT_ERROR and result.provider == "route"
    assert [(leg.provider, leg.reason) for leg in result.failed_legs] == [
        ("a", FailureReason.CIRCUIT_OPEN),
        ("b", FailureReason.CIRCUIT_OPEN),
    ]
    assert result.detail == "no provider took it: a: skipped, circuit open; b: skipped, circuit open"
    assert a.calls == b.calls == 1


def test_a_raising_leg_is_a_transient_failure_with_its_exception() -> None:
    class Broken(ScriptedProvider):
        def send(self, message: OutgoingMessage) -> DeliveryResult:
            raise TimeoutError("read timed out")

    result = FailoverProvider([Broken("a"), ScriptedProvider("b")]).send(email())

    assert result.failed_legs == (
        ProviderFailure("a", FailureReason.TRANSIENT_ERROR, "raised TimeoutError: read timed out"),
    )


def test_a_permanent_refusal_after_failover_keeps_its_bounce_and_the_legs() -> None:
    class Rejecting(ScriptedProvider):
        def send(self, message: OutgoingMessage) -> DeliveryResult:
            return DeliveryResult(Outcome.PERMANENT_ERROR, self.name, None, "550 no such user", True)

    result = FailoverProvider([ScriptedProvider("a", Outcome.TRANSIENT_ERROR), Rejecting("b")]).send(email())

    assert result.outcome is Outcome.PERMANENT_ERROR and result.provider == "b"
    assert result.recipient_rejected  # a hard bounce stays one when it came after a failed leg
    assert [leg.provider for leg in result.failed_legs] == ["a"]
    assert result.detail == "a: a says transient_error; 550 no such user"


def test_failed_legs_are_immutable_values() -> None:
    leg = ProviderFailure("a", FailureReason.TRANSIENT_ERROR, "x")
    with pytest.raises(AttributeError):
        leg.provider = "b"  # type: ignore[misc]


def test_failover_refuses_mixed_channels_and_duplicate_names() -> None:
    sms = ScriptedProvider("s")
    sms.channel = Channel.SMS
    with pytest.raises(ProviderConfigurationError, match="channel"):
        FailoverProvider([ScriptedProvider("a"), sms])
    with pytest.raises(ProviderConfigurationError, match="unique"):
        FailoverProvider([ScriptedProvider("a"), ScriptedProvider("a")])
    with pytest.raises(ProviderConfigurationError):
        FailoverProvider([])


def test_failover_compares_channels_as_strings() -> None:
    plain = ScriptedProvider("plain")
    plain.channel = "email"

    assert FailoverProvider([ScriptedProvider("a"), plain]).channel == "email"


def test_close_closes_every_provider() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    FailoverProvider([a, b]).close()
    assert a.closed and b.closed


def test_rate_limiter_spends_the_burst_then_spaces_tokens() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, burst=3, clock=clock, sleep=clock.sleep)

    waits = [limiter.reserve() for _ in range(5)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1)
    assert waits[4] == pytest.approx(0.2)  # queued behind the previous reservation
    clock.now += 1.0  # 10 tokens accrue, capped at the burst, minus the 2 owed
    assert [limiter.reserve() for _ in range(2)] == [0.0, 0.0]


def test_rate_limiter_waits_with_the_injected_sleep_and_refuses_long_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=1, clock=clock, sleep=clock.sleep)

    assert limiter.acquire()
    assert limiter.acquire(max_wait=1.0)
    assert clock.slept == [pytest.approx(0.5)]
    assert limiter.reserve(max_wait=0.1) is None  # nothing reserved: the next caller is not pushed back
    assert limiter.reserve() == pytest.approx(0.5)


def test_limited_provider_waits_for_its_turn_or_gives_up_transiently() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("a")
    limited = LimitedProvider(
        inner, rate_limiter=RateLimiter(1, 1, clock=clock, sleep=clock.sleep), max_wait=1.5
    )

    assert [limited.send(email()).outcome for _ in range(2)] == [Outcome.ACCEPTED] * 2
    assert clock.slept == [pytest.approx(1.0)]
    limited.rate_limiter = RateLimiter(1, 1, clock=clock, sleep=clock.sleep)
    limited.rate_limiter.reserve()
    limited.rate_limiter.reserve()  # the next token is 2 s away
    result = limited.send(email())
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "rate limit" in result.detail
    assert inner.calls == 2


def test_concurrency_cap_holds_under_threads() -> None:
    active, peak = 0, 0
    lock = threading.Lock()
    gate = threading.Event()

    class Slow(ScriptedProvider):
        def send(self, message: OutgoingMessage) -> DeliveryResult:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            gate.wait(0.05)
            with lock:
                active -= 1
            return super().send(message)

    limited = LimitedProvider(Slow("slow"), max_concurrency=2, max_wait=5)
    results: list[Outcome] = []
    threads = [
        threading.Thread(target=lambda: results.append(limited.send(email()).outcome)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [Outcome.ACCEPTED] * 6
    assert peak == 2


def test_busy_provider_is_transient_after_max_wait() -> None:
    release, entered = threading.Event(), threading.Event()

    class Blocking(ScriptedProvider):
        def send(self, message: OutgoingMessage) -> DeliveryResult:
            entered.set()
            release.wait(5)
            return super().send(message)

    limited = LimitedProvider(Blocking("b"), max_concurrency=1, max_wait=0.05)
    holder = threading.Thread(target=limited.send, args=(email(),))
    holder.start()
    try:
        assert entered.wait(5)  # the holder has the only slot
        result = limited.send(email())
    finally:
        release.set()
        holder.join()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "busy" in result.detail


def test_real_smtp_failover_and_circuit(smtp_server_factory: SmtpServerFactory) -> None:
    """A points at a stopped aiosmtpd, B at a running one: delivered via B; A's circuit opens, then heals."""
    down, up = smtp_server_factory(), smtp_server_factory()
    down.stop()
    clock = FakeClock()
    a = SmtpProvider(down.host, down.port, timeout=2, local_hostname="ccm.test", name="smtp-a")
    b = SmtpProvider(up.host, up.port, timeout=2, local_hostname="ccm.test", name="smtp-b")
    failover = FailoverProvider([a, b], failure_threshold=2, cooldown=30, clock=clock)
    try:
        results = [failover.send(email(f"m{i}")) for i in range(4)]
        assert [r.provider for r in results] == ["smtp-b"] * 4
        assert all(r.accepted for r in results)
        assert "Connection" in results[0].detail  # A's refusal is named
        assert "skipped, circuit open" in results[2].detail
        assert len(up.wait_for(4)) == 4

        down.start()  # A is back; after the cooldown the probe goes to A and closes its circuit
        clock.now += 30
        probe = failover.send(email("probe"))
        assert probe.provider == "smtp-a", probe.detail
        assert failover.states() == {"smtp-a": BreakerState.CLOSED, "smtp-b": BreakerState.CLOSED}
        assert len(down.wait_for(1)) == 1
    finally:
        failover.close()


class BrokenClose(ScriptedProvider):
    def close(self) -> None:
        self.closed = True
        raise RuntimeError("close failed")


def test_routes_prefer_the_category_then_fall_back_to_the_channel() -> None:
    marketing, email_default, sms = ScriptedProvider("ses"), ScriptedProvider("smtp"), ScriptedProvider("tw")
    sms.channel = Channel.SMS
    routes = ProviderRoutes(
        {"email:marketing": marketing, "email": email_default, "sms": sms}, [marketing, email_default, sms]
    )

    assert routes.for_message("email", "marketing") is marketing
    assert routes.for_message(Channel.EMAIL, "receipt") is email_default
    assert routes.for_message("sms", "marketing") is sms


def test_an_unrouted_channel_is_a_configuration_error() -> None:
    routes = ProviderRoutes({"email": ScriptedProvider("smtp")}, [])

    with pytest.raises(ProviderConfigurationError, match=r"no provider is routed for fax \(alerts\)"):
        routes.for_message("fax", "alerts")


def test_a_channel_the_service_registers_is_routed_to_a_generic_provider(tmp_path: Path) -> None:
    fax = OutboxProvider(tmp_path, "fax", name="fax-outbox")
    routes = ProviderRoutes({"fax": fax}, [fax])
    message = OutgoingMessage("f1", "fax", "+3906123", "office", b"II*\x00", "image/tiff")

    assert routes.for_message("fax", "alerts").send(message).accepted


def test_describe_names_failover_chains_in_order(tmp_path: Path) -> None:
    a, b = ScriptedProvider("smtp"), ScriptedProvider("ses")
    printer = OutboxProvider(tmp_path, Channel.PDF, name="print-outbox")
    routes = ProviderRoutes(
        {"email": FailoverProvider([a, b], name="email-failover"), "pdf": printer}, [a, b, printer]
    )

    assert routes.describe() == {"email": "smtp > ses", "pdf": "print-outbox"}


def test_close_all_goes_on_past_a_provider_that_fails_to_close() -> None:
    first, broken, last = ScriptedProvider("a"), BrokenClose("b"), ScriptedProvider("c")
    routes = ProviderRoutes({"email": FailoverProvider([first, broken, last])}, [first, broken, last])

    routes.close_all()  # does not raise

    assert first.closed and broken.closed and last.closed
