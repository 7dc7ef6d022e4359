"""The fan-out: skips counted by reason, crash and resume without doubles, one message per recipient."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ccm.access.models import Role
from ccm.campaigns import fanout
from ccm.campaigns.control import pause
from ccm.campaigns.jobs import JOB_NAME
from ccm.campaigns.models import Campaign
from ccm.customers.service import find_customer, unsubscribe
from ccm.customers.suppression import suppress
from ccm.database import session_scope
from ccm.scheduling import run_exclusively
from tests.ccm.campaigns.conftest import add_customer, campaign, create_campaign, messages_of, run_fan_out
from tests.ccm.conftest import Service


class Crash(Exception):
    pass


def test_blocked_and_incomplete_recipients_are_skipped_and_counted(service: Service, promo: str) -> None:
    add_customer(service, "ok")
    add_customer(service, "gone")
    add_customer(service, "bounced")
    add_customer(service, "nomail", email=None)
    add_customer(service, "noname", attributes={})
    with session_scope(service.runtime.engine) as session:
        gone = find_customer(session, "gone")
        assert gone is not None
        unsubscribe(session, gone, "email", source="test")
        suppress(session, channel="email", address="BOUNCED@example.com", reason="hard_bounce")
    created = create_campaign(service)
    run_fan_out(service, created["id"], batch_size=2)
    assert [m.recipient for m in messages_of(service, created["id"])] == ["ok@example.com"]
    progress = campaign(service, created["id"])["progress"]
    assert progress["skipped"] == {
        "unsubscribed": 1,
        "suppressed": 1,
        "no_email_address": 1,
        "missing_variable": 1,
    }
    assert (progress["targeted"], progress["queued"], progress["batches"]) == (5, 1, 3)
    assert campaign(service, created["id"])["status"] == "completed"
    assert service.work() == 1


def test_crash_mid_fan_out_then_resume_sends_each_recipient_once(service: Service, promo: str) -> None:
    for index in range(10):
        add_customer(service, f"r{index:02d}")
    created = create_campaign(service, channels=["email", "sms"], segment={})

    def crash_on_third(batch: int) -> None:
        if batch == 3:
            raise Crash()

    with pytest.raises(Crash):
        run_fan_out(service, created["id"], batch_size=2, before_commit=crash_on_third)
    assert len(messages_of(service, created["id"])) == 4  # two batches of two customers, email only
    run_fan_out(service, created["id"], batch_size=2)
    messages = messages_of(service, created["id"])
    assert sorted(m.recipient for m in messages) == sorted(f"r{i:02d}@example.com" for i in range(10))
    assert campaign(service, created["id"])["progress"]["skipped"] == {"no_phone_number": 10}
    service.work()
    assert {m.status for m in messages_of(service, created["id"])} == {"sent"}


def test_a_second_fan_out_over_the_same_customers_is_refused(service: Service, promo: str) -> None:
    add_customer(service, "once")
    created = create_campaign(service)
    run_fan_out(service, created["id"])
    with session_scope(service.runtime.engine) as session:
        row = session.get(Campaign, created["id"])
        assert row is not None
        row.checkpoint_customer_id, row.status = 0, "running"  # simulate a lost checkpoint
    with pytest.raises(IntegrityError):
        run_fan_out(service, created["id"])
    assert len(messages_of(service, created["id"])) == 1


def while_the_first_batch_renders(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Run `action` inside the fan-out's first render check, as another process would meanwhile."""
    real, calls = fanout.check_renders_each, []

    def check(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            action()
        return real(*args)

    monkeypatch.setattr(fanout, "check_renders_each", check)


def test_no_database_lock_is_held_while_a_batch_renders(
    service: Service, promo: str, impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause or any other write does not wait for an author's (up to 10 s) template: while a batch's
    render check runs, another connection locks and updates the campaign row at once."""
    for index in range(3):
        add_customer(service, f"w{index}")
    created = create_campaign(service)

    def rename() -> None:
        with session_scope(impatient) as session:  # "database is locked" / lock timeout after 1 s
            row = session.get(Campaign, created["id"], with_for_update=True)
            assert row is not None
            row.name = "Renamed while rendering"

    while_the_first_batch_renders(monkeypatch, rename)
    assert run_fan_out(service, created["id"], batch_size=2) == 2
    assert campaign(service, created["id"])["name"] == "Renamed while rendering"
    assert len(messages_of(service, created["id"])) == 3


def test_a_campaign_paused_while_its_batch_renders_gets_nothing_from_that_batch(
    service: Service, promo: str, impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause does not wait for the render, and the batch's write sees it: it is redone on resume."""
    for index in range(2):
        add_customer(service, f"p{index}")
    created = create_campaign(service)

    def pause_it() -> None:
        with session_scope(impatient) as session:
            pause(session, created["id"])

    while_the_first_batch_renders(monkeypatch, pause_it)
    assert run_fan_out(service, created["id"]) == 0
    paused = campaign(service, created["id"])
    assert paused["status"] == "paused"
    assert paused["progress"]["targeted"] == paused["progress"]["batches"] == 0
    assert messages_of(service, created["id"]) == []
    response = service.client.post(
        f"/v1/campaigns/{created['id']}/resume", headers=service.headers(Role.MARKETER)
    )
    assert response.status_code == 200, response.text
    assert run_fan_out(service, created["id"]) == 1
    assert len(messages_of(service, created["id"])) == 2


def test_a_batch_another_runner_committed_while_this_one_rendered_is_not_queued_twice(
    service: Service, promo: str, impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runner B commits the batch runner A is rendering (then crashes); A drops its copy and goes on from
    B's checkpoint, without leaning on the unique index."""
    for index in range(5):
        add_customer(service, f"r{index}")
    created = create_campaign(service)

    def crash_on_second(batch: int) -> None:
        if batch == 2:
            raise Crash()

    def other_runner() -> None:
        with pytest.raises(Crash):
            fanout.fan_out(
                impatient, created["id"], service.settings, batch_size=2, before_commit=crash_on_second
            )

    while_the_first_batch_renders(monkeypatch, other_runner)
    assert run_fan_out(service, created["id"], batch_size=2) == 2
    recipients = [m.recipient for m in messages_of(service, created["id"])]
    assert recipients == [f"r{index}@example.com" for index in range(5)]
    progress = campaign(service, created["id"])["progress"]
    assert (progress["targeted"], progress["queued"], progress["batches"]) == (5, 5, 3)


def test_unknown_and_unpublished_templates(service: Service, promo: str) -> None:
    headers = service.headers(Role.MARKETER)
    unknown = service.client.post("/v1/campaigns", json={"name": "x", "template": "nope"}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "template"
    draft = {**{"key": "draft", "name": "D", "category": "marketing"}, "parts": {"sms": {"text": "hi"}}}
    assert service.client.post("/v1/templates", json=draft, headers=headers).status_code == 201
    response = service.client.post("/v1/campaigns", json={"name": "x", "template": "draft"}, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "not_published"


def _bulk_customers(service: Service, count: int) -> None:
    with session_scope(service.runtime.engine) as session:
        session.execute(
            text(
                "INSERT INTO customers"
                " (external_id, email, locale, timezone, attributes, created_at, updated_at)"
                " SELECT 'bulk-' || g, 'bulk-' || g || '@example.com', 'en', 'Europe/Rome',"
                ' CAST(\'{"first_name": "Bulk", "plan": "pro"}\' AS JSON), now(), now()'
                " FROM generate_series(1, :count) AS g"
            ),
            {"count": count},
        )


@pytest.mark.slow
def test_fan_out_of_100k_recipients_on_postgresql(service: Service, promo: str) -> None:
    if service.runtime.engine.dialect.name != "postgresql":
        pytest.skip("the volume test runs on PostgreSQL")
    count = int(os.environ.get("CCM_TEST_FANOUT_COUNT", "100000"))
    _bulk_customers(service, count)
    created = create_campaign(service, segment={"all": [{"attribute": "plan", "op": "eq", "value": "pro"}]})
    peaks: list[int] = []

    def measure(batch: int) -> None:
        """Trace memory over the first 20 batches only (tracing doubles the run time); a batch's memory
        is released with its session, so the peak is the steady state."""
        if batch == 20:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    tracemalloc.start()
    started = time.perf_counter()
    batches = run_fan_out(service, created["id"], batch_size=500, before_commit=measure)
    elapsed = time.perf_counter() - started
    (peak,) = peaks
    print(
        f"\nfan-out of {count} recipients: {elapsed:.1f} s ({count / elapsed:.0f}/s),"
        f" peak {peak / 1e6:.1f} MB"
    )
    progress: dict[str, Any] = campaign(service, created["id"])["progress"]
    assert (progress["queued"], batches) == (count, -(-count // 500))
    assert progress["messages"] == {"queued": count}
    assert peak < 50e6


def test_only_one_of_two_concurrent_job_runs_acts(service: Service) -> None:
    engine = service.runtime.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock exists on PostgreSQL; SQLite runs jobs as they come")
    entered, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow() -> str:
        ran.append("first")
        entered.set()
        release.wait(10)
        return "first"

    first = threading.Thread(target=run_exclusively, args=(engine, JOB_NAME, slow))
    first.start()
    assert entered.wait(10)
    assert run_exclusively(engine, JOB_NAME, lambda: ran.append("second")) is None
    assert run_exclusively(engine, "another-job", lambda: "other") == "other"
    release.set()
    first.join(10)
    assert run_exclusively(engine, JOB_NAME, lambda: "after") == "after"
    assert ran == ["first"]
    with session_scope(engine) as session:
        assert session.exec(select(Campaign)).all() == []
