"""The engine's guarantees: a step is done once per run however often it is run, a crashed step is done
again (once) after its lease expires, a worker whose lease was taken writes nothing, and concurrent
claimers never share a run (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from ccm.customers.models import Customer
from ccm.database import session_scope
from ccm.journeys.definition import JourneyContent
from ccm.journeys.engine import JourneyRunner
from ccm.journeys.events import start_run
from ccm.journeys.models import Enrolment, Journey, JourneyVersion
from ccm.journeys.steps import STEP_KINDS, Run
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import START, Clock, create, enrol, enrolment, invoice, messages, step_runs

MAIL: dict[str, Any] = {
    "key": "mail",
    "name": "Mail",
    "category": "transactional",
    "trigger": {"event": "go"},
    "reentry": "every_time",
    "steps": [
        {"id": "mail", "send": {"template": "invoice", "channel": "email"}},
        {"id": "w", "wait": {"duration": "P1D"}},
    ],
}


def runner(service: Service, name: str) -> JourneyRunner:
    return JourneyRunner(service.runtime.engine, service.settings, name=name)


def send_step_once(service: Service, run_id: str) -> str | None:
    """Run the run's send step (not the engine's bookkeeping around it) and commit: a worker that
    queued the message and died before recording the step."""
    with Session(service.runtime.engine, expire_on_commit=False) as session:
        enrolled = session.get(Enrolment, run_id)
        assert enrolled is not None
        version = session.get(JourneyVersion, enrolled.version_id)
        customer = session.get(Customer, enrolled.customer_id)
        assert version is not None and customer is not None
        content = JourneyContent.model_validate(version.definition)
        step = content.steps[0]
        run = Run(session, service.settings, enrolled, customer, content, step, START, session.commit)
        result = STEP_KINDS[step.kind](run, step.body)
        session.commit()
        return result.message_id


def test_running_a_send_step_twice_queues_one_message(service: Service, customer: dict[str, Any]) -> None:
    create(service, MAIL)
    run_id = enrol(service, "go", invoice())
    first = send_step_once(service, run_id)
    second = send_step_once(service, run_id)
    assert first is not None and first == second
    assert [m.id for m in messages(service)] == [first]


class Killed(BaseException):
    """The worker dies mid-step (a step that merely raises is retried with a backoff: test_dead_letter)."""


def test_a_step_that_crashed_before_commit_is_done_once_after_the_lease(
    service: Service, customer: dict[str, Any], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(service, MAIL)
    run_id = enrol(service, "go", invoice())
    crashing = runner(service, "crashing")
    assert crashing.claim(10) == [run_id]
    with monkeypatch.context() as patch:
        patch.setattr(JourneyRunner, "_apply", lambda *args: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            crashing.process(run_id)
    assert messages(service) == []
    assert runner(service, "other").claim(10) == [], "the lease still holds"
    clock.advance(timedelta(seconds=service.settings.lease_seconds + 1))
    survivor = runner(service, "survivor")
    assert survivor.run_until_idle() == 1
    assert len(messages(service)) == 1
    assert step_runs(service, run_id)["mail"].message_id == messages(service)[0].id
    assert enrolment(service, run_id).step_id == "w"


def test_a_worker_whose_lease_was_taken_writes_nothing(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    create(service, MAIL)
    run_id = enrol(service, "go", invoice())
    slow, fast = runner(service, "slow"), runner(service, "fast")
    assert slow.claim(10) == [run_id]
    clock.advance(timedelta(seconds=service.settings.lease_seconds + 1))
    assert fast.claim(10) == [run_id]
    fast.process(run_id)
    slow.process(run_id)  # its lease is gone: the step is not run again
    assert len(messages(service)) == 1
    assert enrolment(service, run_id).locked_by is None


def test_concurrent_claimers_never_share_a_run(service: Service, customer: dict[str, Any]) -> None:
    create(service, MAIL)
    with session_scope(service.runtime.engine) as session:
        journey = session.exec(select(Journey)).one()
        version = session.exec(select(JourneyVersion)).one()
        person = session.exec(select(Customer)).one()
        content = JourneyContent.model_validate(version.definition)
        expected = {
            start_run(session, journey, version, content, person, {}, now=START).id for _ in range(300)
        }
    claimed: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    barrier = threading.Barrier(len(claimed))

    def claim_all(name: str) -> None:
        worker = runner(service, name)
        barrier.wait()
        while batch := worker.claim(7):
            claimed[name].extend(batch)

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [run_id for batch in claimed.values() for run_id in batch]
    assert len(everything) == len(set(everything)) == 300
    assert set(everything) == expected
    with session_scope(service.runtime.engine) as session:
        owners = {row.id: row.locked_by for row in session.exec(select(Enrolment)).all()}
    assert all(owners[run_id] == name for name, batch in claimed.items() for run_id in batch)


def test_a_failing_step_does_not_stop_the_other_runs(
    service: Service, customer: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    create(service, MAIL)
    broken, healthy = enrol(service, "go", {"unrelated": 1}), enrol(service, "go", invoice())

    def fussy(run: Run, body: Any) -> Any:
        if run.enrolment.id == broken:
            raise RuntimeError("a bug in a step")
        return send(run, body)

    send = STEP_KINDS["send"]
    monkeypatch.setitem(STEP_KINDS, "send", fussy)
    assert runner(service, "w").run_until_idle() == 2
    assert enrolment(service, healthy).step_id == "w"
    stuck = enrolment(service, broken)
    assert (stuck.status, stuck.step_id, stuck.locked_by) == ("active", "mail", None), "retried later"
    assert stuck.step_state["attempts"] == 1 and stuck.due_at is not None
