"""Every kind of step, run by the engine on a moving test clock: send (and its channel fallback, with
the reason each channel was refused), wait (duration, local time, event with timeout), branch (each
condition kind), split, update, webhook, exit, and quiet hours holding a send."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from ccm.access.models import Role
from ccm.communications.models import Message, MessageStatus
from ccm.database import session_scope
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.journeys.steps import bucket
from ccm.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.ccm.campaigns.conftest import PROMO
from tests.ccm.conftest import Service, publish_reviewed
from tests.ccm.journeys.conftest import (
    Clock,
    create,
    enrol,
    enrolment,
    invoice,
    messages,
    post_event,
    run,
    step_runs,
)


def journey(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "key": "j",
        "name": "J",
        "category": "transactional",
        "trigger": {"event": "go"},
        "reentry": "every_time",
        "steps": steps,
        **extra,
    }


def put_customer(service: Service, external_id: str, **fields: Any) -> None:
    body = {"locale": "en", "timezone": "Europe/Rome", "attributes": {"first_name": "Ada"}, **fields}
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


FALLBACK = [{"id": "tell", "send": {"template": "invoice", "fallback": ["email", "sms"]}}]


def test_fallback_goes_to_sms_without_an_email_address(service: Service) -> None:
    put_customer(service, "p-1", phone="+393471234509")
    create(service, journey(FALLBACK))
    run_id = enrol(service, "go", invoice(), customer="p-1")
    run(service)
    [message] = messages(service)
    assert message.channel == "sms"
    step = step_runs(service, run_id)["tell"]
    assert (step.outcome, step.message_id) == ("passed", message.id)
    assert step.detail == {"channel": "sms", "refused": {"email": "no_email_address"}}
    assert enrolment(service, run_id).status == "completed"


def test_fallback_passes_over_a_suppressed_address(service: Service, customer: dict[str, Any]) -> None:
    body = {"channel": "email", "address": customer["email"]}
    assert service.client.post("/v1/suppressions", json=body, headers=service.headers()).status_code == 201
    create(service, journey(FALLBACK))
    run_id = enrol(service, "go", invoice())
    run(service)
    assert [m.channel for m in messages(service)] == ["sms"]
    assert step_runs(service, run_id)["tell"].detail["refused"] == {"email": "suppressed"}


def test_fallback_tries_the_next_channel_when_the_message_fails(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    create(service, journey(FALLBACK))
    run_id = enrol(service, "go", invoice())
    run(service)
    [email] = messages(service)
    assert email.channel == "email" and enrolment(service, run_id).step_id == "tell", "waits for the outcome"
    with session_scope(service.runtime.engine) as session:
        failed = session.get(Message, email.id)
        assert failed is not None
        failed.status = MessageStatus.FAILED
        session.add(failed)
    clock.advance(timedelta(seconds=61))
    run(service)
    assert [m.channel for m in messages(service)] == ["email", "sms"]
    step = step_runs(service, run_id)["tell"]
    assert step.detail == {"channel": "sms", "refused": {"email": "message_failed"}}
    assert enrolment(service, run_id).status == "completed"


def test_fallback_stops_at_a_message_that_was_sent(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    create(service, journey(FALLBACK))
    run_id = enrol(service, "go", invoice())
    run(service)
    clock.advance(timedelta(seconds=61))
    run(service)
    assert enrolment(service, run_id).status == "active", "still queued: still waiting"
    assert service.work() == 1
    clock.advance(timedelta(seconds=61))
    run(service)
    assert [m.channel for m in messages(service)] == ["email"]
    assert step_runs(service, run_id)["tell"].detail == {"channel": "email", "refused": {}}
    assert enrolment(service, run_id).status == "completed"


def test_a_send_no_channel_allows_is_skipped_with_the_reason(service: Service) -> None:
    put_customer(service, "e-1", email="ada@example.com")
    create(
        service,
        journey([{"id": "text", "send": {"template": "invoice", "channel": "sms"}}, {"id": "x", "exit": {}}]),
    )
    run_id = enrol(service, "go", invoice(), customer="e-1")
    run(service)
    assert messages(service) == []
    step = step_runs(service, run_id)["text"]
    assert (step.outcome, step.reason) == ("skipped", "no_phone_number")
    counts = service.client.get("/v1/journeys/j", headers=service.headers()).json()["steps"]
    assert counts["text"]["skipped"] == {"no_phone_number": 1} and counts["x"]["exited"] == 1


def test_a_send_with_data_the_template_refuses_is_skipped(service: Service, customer: dict[str, Any]) -> None:
    create(service, journey([{"id": "mail", "send": {"template": "invoice", "channel": "email"}}]))
    run_id = enrol(service, "go", {"unrelated": True})
    run(service)
    assert messages(service) == []
    assert step_runs(service, run_id)["mail"].outcome == "skipped"
    assert step_runs(service, run_id)["mail"].reason in ("data_invalid", "missing_variable")


def test_the_template_version_live_when_the_step_runs_is_used(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    template = {
        "key": "note",
        "name": "Note",
        "category": "transactional",
        "parts": {"sms": {"text": "first"}},
        "sample_data": {},
    }
    headers = service.headers()
    assert service.client.post("/v1/templates", json=template, headers=headers).status_code == 201
    assert service.client.post("/v1/templates/note/versions/1/publish", headers=headers).status_code == 200
    steps = [
        {"id": "w", "wait": {"duration": "PT1H"}},
        {"id": "s", "send": {"template": "note", "channel": "sms"}},
    ]
    create(service, journey(steps))
    enrol(service, "go")
    run(service)
    second = {"parts": {"sms": {"text": "second"}}, "sample_data": {}}
    response = service.client.post("/v1/templates/note/versions", json=second, headers=headers)
    assert response.status_code == 201, response.text
    assert service.client.post("/v1/templates/note/versions/2/publish", headers=headers).status_code == 200
    clock.advance(timedelta(hours=2))
    run(service)
    assert [m.template_version for m in messages(service)] == [2]


def test_wait_until_a_local_time(service: Service, customer: dict[str, Any], clock: Clock) -> None:
    create(service, journey([{"id": "w", "wait": {"until": "08:30"}}, {"id": "x", "exit": {}}]))
    run_id = enrol(service, "go")  # 10:00 in Rome
    run(service)
    assert enrolment(service, run_id).wait_until == datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    clock.set(datetime(2026, 12, 2, 7, 29, tzinfo=UTC))
    run(service)
    assert enrolment(service, run_id).status == "active"
    clock.set(datetime(2026, 12, 2, 7, 30, tzinfo=UTC))
    run(service)
    assert enrolment(service, run_id).status == "exited"


EVENT_WAIT = [
    {"id": "w", "wait": {"event": "paid", "timeout": "P3D"}},
    {"id": "b", "branch": {"if": {"event_received": "paid"}, "then": "thanks", "else": "late"}},
    {"id": "thanks", "update": {"attribute": "outcome", "value": "paid"}, "next": "end"},
    {"id": "late", "update": {"attribute": "outcome", "value": "late"}},
    {"id": "end", "exit": {}},
]


def attributes(service: Service, external_id: str = "c-1") -> dict[str, Any]:
    result: dict[str, Any] = service.client.get(
        f"/v1/customers/{external_id}", headers=service.headers()
    ).json()["attributes"]
    return result


def test_wait_for_an_event_that_comes(service: Service, customer: dict[str, Any], clock: Clock) -> None:
    create(service, journey(EVENT_WAIT))
    run_id = enrol(service, "go")
    run(service)
    clock.advance(timedelta(hours=5))
    assert post_event(service, "paid").status_code == 202
    run(service)
    assert step_runs(service, run_id)["w"].detail == {"event": "paid", "received": True}
    assert attributes(service)["outcome"] == "paid"
    assert "late" not in step_runs(service, run_id)


def test_wait_for_an_event_that_times_out(service: Service, customer: dict[str, Any], clock: Clock) -> None:
    create(service, journey(EVENT_WAIT))
    run_id = enrol(service, "go")
    run(service)
    clock.advance(timedelta(days=2))
    run(service)
    assert enrolment(service, run_id).step_id == "w"
    clock.advance(timedelta(days=1, seconds=1))
    run(service)
    assert step_runs(service, run_id)["w"].detail == {"event": "paid", "received": False}
    assert attributes(service)["outcome"] == "late"


def branch_on(condition: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": "mail", "send": {"template": "invoice", "channel": "email"}},
        {"id": "b", "branch": {"if": condition, "then": "yes", "else": "no"}},
        {"id": "yes", "exit": {}},
        {"id": "no", "exit": {}},
    ]


def outcome(service: Service, run_id: str) -> str | None:
    return enrolment(service, run_id).step_id


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"attribute": {"name": "first_name", "equals": "Giulia"}}, "yes"),
        ({"attribute": {"name": "first_name", "not_equals": "Giulia"}}, "no"),
        ({"attribute": {"name": "tier", "exists": False}}, "yes"),
        ({"property": {"path": "invoice.total", "gt": 40}}, "yes"),
        ({"property": {"path": "invoice.total", "lt": 40}}, "no"),
        ({"property": {"path": "invoice.number", "equals": "2026-001"}}, "yes"),
        ({"property": {"path": "invoice.missing", "exists": True}}, "no"),
        ({"delivered": "mail"}, "no"),
        ({"clicked": "mail"}, "no"),
    ],
)
def test_branch_conditions(
    service: Service, customer: dict[str, Any], condition: dict[str, Any], expected: str
) -> None:
    create(service, journey(branch_on(condition)))
    run_id = enrol(service, "go", invoice())
    run(service)
    assert outcome(service, run_id) == expected


@pytest.mark.parametrize(
    ("kind", "detail", "expected"),
    [
        (EventType.CLICKED, {}, "yes"),
        (EventType.CLICKED, {"machine": True}, "no"),
        (EventType.DELIVERED, {}, "yes"),
    ],
)
def test_branch_on_engagement_recorded_before_it_runs(
    service: Service,
    customer: dict[str, Any],
    clock: Clock,
    kind: EventType,
    detail: dict[str, Any],
    expected: str,
) -> None:
    condition = {"clicked": "mail"} if kind == EventType.CLICKED else {"delivered": "mail"}
    steps = branch_on(condition)
    steps.insert(1, {"id": "w", "wait": {"duration": "PT1H"}})
    create(service, journey(steps))
    run_id = enrol(service, "go", invoice())
    run(service)
    with session_scope(service.runtime.engine) as session:
        message = session.exec(select(Message)).one()
        record_message_event(session, message, kind, detail)
    clock.advance(timedelta(hours=2))
    run(service)
    assert outcome(service, run_id) == expected


@pytest.mark.parametrize(("score", "expected"), [(10, "yes"), (6, "no")])
def test_branch_on_an_nps_answer(
    service: Service, customer: dict[str, Any], clock: Clock, score: int, expected: str
) -> None:
    steps = [
        {"id": "mail", "send": {"template": "invoice", "channel": "email"}},
        {"id": "w", "wait": {"duration": "P1D"}},
        {"id": "b", "branch": {"if": {"nps": {"step": "mail", "min": 9}}, "then": "yes", "else": "no"}},
        {"id": "yes", "exit": {}},
        {"id": "no", "exit": {}},
    ]
    create(service, journey(steps))
    run_id = enrol(service, "go", invoice())
    run(service)
    with session_scope(service.runtime.engine) as session:
        message = session.exec(select(Message)).one()
        record_message_event(session, message, EventType.FEEDBACK, {"kind": "nps", "score": score})
    clock.advance(timedelta(days=2))
    run(service)
    assert outcome(service, run_id) == expected


def test_split_sends_each_run_to_its_variant(service: Service, customer: dict[str, Any]) -> None:
    split = {
        "variants": [
            {"name": "a", "percent": 30, "next": "to-a"},
            {"name": "b", "percent": 70, "next": "to-b"},
        ]
    }
    steps = [
        {"id": "s", "split": split},
        {"id": "to-a", "update": {"attribute": "variant", "value": "a"}, "next": "end"},
        {"id": "to-b", "update": {"attribute": "variant", "value": "b"}},
        {"id": "end", "exit": {}},
    ]
    create(service, journey(steps))
    ids = [enrol(service, "go") for _ in range(40)]
    run(service)
    chosen: Counter[str] = Counter()
    for run_id in ids:
        variant = step_runs(service, run_id)["s"].detail["variant"]
        assert variant == ("a" if bucket(run_id, "s") < 30 else "b")
        assert ("to-a" in step_runs(service, run_id)) == (variant == "a")
        chosen[variant] += 1
    assert chosen["a"] > 0 and chosen["b"] > 0


def test_update_sets_an_attribute(service: Service, customer: dict[str, Any]) -> None:
    create(service, journey([{"id": "u", "update": {"attribute": "stage", "value": "onboarded"}}]))
    run_id = enrol(service, "go")
    run(service)
    assert attributes(service)["stage"] == "onboarded"
    assert attributes(service)["first_name"] == "Giulia"
    assert enrolment(service, run_id).status == "completed"


def test_an_update_its_declared_type_refuses_is_skipped_not_written(
    service: Service, customer: dict[str, Any]
) -> None:
    create(service, journey([{"id": "u", "update": {"attribute": "score", "value": "high"}}]))
    declared = service.client.post(
        "/v1/customer-attributes", json={"name": "score", "type": "number"}, headers=service.headers()
    )
    assert declared.status_code == 201, declared.text  # declared after the journey went live
    run_id = enrol(service, "go")
    run(service)
    step = step_runs(service, run_id)["u"]
    assert (step.outcome, step.reason) == ("skipped", "attribute_invalid")
    assert "score" not in attributes(service)


def test_webhook_queues_a_delivery_for_the_endpoint(service: Service, customer: dict[str, Any]) -> None:
    with session_scope(service.runtime.engine) as session:
        endpoint = WebhookEndpoint(url="https://hooks.example.com/ccm", events=[], secret="whsec_dGVzdA==")
        session.add(endpoint)
        session.flush()
        endpoint_id = endpoint.id
    create(service, journey([{"id": "hook", "webhook": {"endpoint": endpoint_id}}]))
    run_id = enrol(service, "go", {"order": 7})
    run(service)
    with session_scope(service.runtime.engine) as session:
        [delivery] = session.exec(select(WebhookDelivery)).all()
    assert (delivery.endpoint_id, delivery.event_type) == (endpoint_id, "journey.step")
    assert delivery.payload["data"] == {
        "enrolment": run_id,
        "step": "hook",
        "customer_id": "c-1",
        "properties": {"order": 7},
    }


def test_exit_ends_the_run_before_later_steps(service: Service, customer: dict[str, Any]) -> None:
    create(
        service, journey([{"id": "x", "exit": {}}, {"id": "never", "update": {"attribute": "a", "value": 1}}])
    )
    run_id = enrol(service, "go")
    run(service)
    done = enrolment(service, run_id)
    assert (done.status, done.step_id, done.end_reason) == ("exited", "x", "exit")
    assert "a" not in attributes(service)


def test_quiet_hours_hold_a_send_until_they_end(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    clock.set(datetime(2026, 12, 1, 21, 0, tzinfo=UTC))  # 22:00 in Rome
    steps = [{"id": "mail", "send": {"template": "invoice", "channel": "email"}}]
    create(service, journey(steps, quiet_hours={"start": "21:00", "end": "08:00"}))
    run_id = enrol(service, "go", invoice())
    run(service)
    assert messages(service) == []
    assert enrolment(service, run_id).due_at == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    clock.set(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    run(service)
    assert len(messages(service)) == 1


def test_the_frequency_cap_skips_marketing_sends_only(service: Service, customer: dict[str, Any]) -> None:
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/templates", json=PROMO, headers=headers).status_code == 201
    publish_reviewed(service, "promo", 1)
    steps = [
        {"id": "promo", "send": {"template": "promo", "channel": "email"}},
        {"id": "bill", "send": {"template": "invoice", "channel": "email"}},
    ]
    cap = {"max_messages": 1, "period_hours": 24}
    create(service, journey(steps, frequency_cap=cap, data={"offer": "10% off"}))
    first, second = enrol(service, "go", invoice()), enrol(service, "go", invoice())
    run(service)
    outcomes = sorted(step_runs(service, r)["promo"].reason or "sent" for r in (first, second))
    assert outcomes == ["frequency_cap", "sent"]
    assert all(step_runs(service, r)["bill"].outcome == "passed" for r in (first, second))
    assert Counter(m.template_key for m in messages(service)) == {"promo": 1, "invoice": 2}
