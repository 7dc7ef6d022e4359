"""The fan-out: skips counted by reason, crash and resume without doubles, one message per recipient."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ccm.access.models import Role
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
