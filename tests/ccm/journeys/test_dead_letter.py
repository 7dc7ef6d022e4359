"""A step that keeps raising is tried again after a doubling backoff, `CCM_JOURNEY_STEP_MAX_ATTEMPTS` times
in all; then its run ends as `failed` with the error kept, counted at the step, and is never claimed again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from ccm.access.models import Role
from ccm.journeys import steps
from ccm.journeys.steps import Result, Run
from tests.ccm.conftest import Service, ServiceFactory
from tests.ccm.journeys.conftest import Clock, create, enrol, enrolment, run, step_runs

FLAKY = {
    "key": "flaky",
    "name": "Flaky",
    "category": "transactional",
    "trigger": {"event": "go"},
    "reentry": "every_time",
    "steps": [
        {"id": "set", "update": {"attribute": "tier", "value": "gold"}},
        {"id": "end", "exit": {}},
    ],
}


@pytest.fixture
def service(service_factory: ServiceFactory, clock: Clock) -> Service:
    """Three attempts per step; retries after 0.5 s, doubling (`retry_base_seconds` in the test service)."""
    return service_factory(test_clock_file=clock.path, journey_step_max_attempts=3)


class Failing:
    """A step kind that raises its first `failures` calls, then does what the real kind does."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0
        self.real = steps.STEP_KINDS["update"]

    def __call__(self, run: Run, body: Any) -> Result:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"boom {self.calls}")
        return self.real(run, body)


def test_a_step_that_keeps_raising_fails_its_run_after_the_last_attempt(
    service: Service, customer: dict[str, Any], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Failing(failures=100)
    monkeypatch.setitem(steps.STEP_KINDS, "update", failing)
    create(service, FLAKY)
    run_id = enrol(service, "go")
    run(service)
    first = enrolment(service, run_id)
    assert (first.status, first.step_id, failing.calls) == ("active", "set", 1)
    assert first.step_state == {"attempts": 1, "error": "RuntimeError: boom 1"}
    assert first.due_at == clock.now + timedelta(seconds=0.5) and first.locked_by is None
    run(service)
    assert failing.calls == 1, "not due again before its backoff"

    clock.advance(timedelta(seconds=0.5))
    run(service)
    second = enrolment(service, run_id)
    assert (second.step_state["attempts"], failing.calls) == (2, 2)
    assert second.due_at == clock.now + timedelta(seconds=1), "the backoff doubles"

    clock.advance(timedelta(seconds=1))
    run(service)
    failed = enrolment(service, run_id)
    assert (failed.status, failed.step_id, failed.end_reason) == ("failed", "set", "step_failed")
    assert failed.step_state == {"attempts": 3, "error": "RuntimeError: boom 3"}
    assert (failed.due_at, failed.ended_at) == (None, clock.now)
    clock.advance(timedelta(days=1))
    run(service)
    assert failing.calls == 3, "a failed run is never claimed again"

    journey = service.client.get("/v1/journeys/flaky", headers=service.headers(Role.MARKETER)).json()
    assert journey["steps"]["set"]["failed"] == 1 and journey["steps"]["set"]["waiting"] == 0
    assert "set" not in step_runs(service, run_id)


def test_a_step_that_recovers_goes_on_with_its_failures_forgotten(
    service: Service, customer: dict[str, Any], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Failing(failures=2)
    monkeypatch.setitem(steps.STEP_KINDS, "update", failing)
    create(service, FLAKY)
    run_id = enrol(service, "go")
    for _ in range(3):
        run(service)
        clock.advance(timedelta(seconds=2))
    done = enrolment(service, run_id)
    assert (done.status, done.step_id, done.end_reason, failing.calls) == ("exited", "end", "exit", 3)
    assert done.step_state == {}
    assert step_runs(service, run_id)["set"].outcome == "passed"


def test_a_database_error_is_not_the_steps_fault_and_is_not_counted(
    service: Service, customer: dict[str, Any], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(run: Run, body: Any) -> Result:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setitem(steps.STEP_KINDS, "update", unreachable)
    create(service, FLAKY)
    run_id = enrol(service, "go")
    run(service)
    held = enrolment(service, run_id)
    assert (held.status, held.step_state) == ("active", {}), "no attempt counted"
    assert held.locked_by is not None, "left to its lease, as a killed worker's run is"
