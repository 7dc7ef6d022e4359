"""The issue's invoice chase: email, 48 hours, SMS only when the email was not opened by a person; the
goal (`invoice_paid` with the same invoice number) ends the run early."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import (
    INVOICE_CHASE,
    Clock,
    create,
    enrol,
    enrolment,
    invoice,
    messages,
    post_event,
    record_open,
    run,
    step_runs,
)


def test_unopened_email_is_followed_by_an_sms(
    service: Service, customer: dict[str, Any], reminder: str, clock: Clock
) -> None:
    create(service, INVOICE_CHASE)
    run_id = enrol(service, "invoice_issued", invoice())
    run(service)
    sent = messages(service)
    assert [(m.template_key, m.channel) for m in sent] == [("invoice", "email")]
    assert enrolment(service, run_id).step_id == "wait"

    clock.advance(timedelta(hours=47))
    run(service)
    assert len(messages(service)) == 1, "still waiting"

    clock.advance(timedelta(hours=1, seconds=1))
    run(service)
    sent = messages(service)
    assert [(m.template_key, m.channel) for m in sent] == [("invoice", "email"), ("invoice-reminder", "sms")]
    assert sent[1].context["invoice"]["number"] == "2026-001"
    done = enrolment(service, run_id)
    assert (done.status, done.step_id, done.end_reason) == ("exited", "done", "exit")
    assert step_runs(service, run_id)["check"].detail == {"result": False}


def test_opened_email_means_no_sms(
    service: Service, customer: dict[str, Any], reminder: str, clock: Clock
) -> None:
    create(service, INVOICE_CHASE)
    run_id = enrol(service, "invoice_issued", invoice())
    run(service)
    record_open(service, messages(service)[0].id)
    clock.advance(timedelta(hours=49))
    run(service)
    assert [m.channel for m in messages(service)] == ["email"]
    assert "sms" not in step_runs(service, run_id)
    assert enrolment(service, run_id).status == "exited"


def test_an_open_by_a_machine_is_not_an_open(
    service: Service, customer: dict[str, Any], reminder: str, clock: Clock
) -> None:
    create(service, INVOICE_CHASE)
    enrol(service, "invoice_issued", invoice())
    run(service)
    record_open(service, messages(service)[0].id, machine=True)
    clock.advance(timedelta(hours=49))
    run(service)
    assert [m.channel for m in messages(service)] == ["email", "sms"]


def test_goal_ends_only_the_matching_run(
    service: Service, customer: dict[str, Any], reminder: str, clock: Clock
) -> None:
    create(service, INVOICE_CHASE)
    first = enrol(service, "invoice_issued", invoice("A-1"))
    second = enrol(service, "invoice_issued", invoice("A-2"))
    run(service)
    assert post_event(service, "invoice_paid", {"invoice": {"number": "A-1"}}).status_code == 202
    clock.advance(timedelta(hours=49))
    run(service)
    assert (enrolment(service, first).status, enrolment(service, first).step_id) == ("goal", "wait")
    assert enrolment(service, second).status == "exited"
    reminders = [m for m in messages(service) if m.channel == "sms"]
    assert [m.context["invoice"]["number"] for m in reminders] == ["A-2"]
    counts = service.client.get("/v1/journeys/invoice-chase", headers=service.headers()).json()["steps"]
    assert counts["mail"]["passed"] == 2
    assert counts["wait"]["goal"] == 1 and counts["wait"]["passed"] == 1
    assert counts["sms"]["passed"] == 1 and counts["done"]["exited"] == 1
