"""Segment and date triggers, evaluated by the scheduled job on the test clock: entering a segment enrols
(those in it at publish only with include_existing), a date attribute plus its offset enrols once at the
customer's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.customers.models import Customer
from ccm.database import session_scope
from ccm.journeys.durations import shift_date
from ccm.journeys.jobs import evaluate_triggers
from ccm.journeys.models import Enrolment
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import Clock, create

STEPS = [{"id": "w", "wait": {"duration": "P1D"}}, {"id": "x", "exit": {}}]


def put(service: Service, external_id: str, timezone: str = "UTC", **attributes: Any) -> None:
    body = {
        "email": f"{external_id}@example.com",
        "locale": "en",
        "timezone": timezone,
        "attributes": attributes,
    }
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def enrolled(service: Service) -> list[str]:
    """External ids of the customers with a run, in order of enrolment."""
    with session_scope(service.runtime.engine) as session:
        rows = session.exec(
            select(Customer.external_id)
            .join(Enrolment, col(Enrolment.customer_id) == col(Customer.id))
            .order_by(col(Enrolment.created_at), col(Customer.external_id))
        ).all()
    return list(rows)


def segment_journey(service: Service, include_existing: bool | None = None) -> None:
    rule = {"all": [{"attribute": "plan", "op": "eq", "value": "pro"}]}
    body = {"key": "pro", "name": "Pro", "rule": rule}
    assert service.client.post("/v1/segments", json=body, headers=service.headers()).status_code == 201
    trigger: dict[str, Any] = {"segment": "pro"}
    if include_existing is not None:
        trigger["include_existing"] = include_existing
    definition = {"key": "upsell", "name": "Upsell", "category": "transactional", "trigger": trigger}
    create(service, {**definition, "reentry": "every_time", "steps": STEPS})


def test_entering_the_segment_enrols(service: Service) -> None:
    put(service, "already", plan="pro")
    put(service, "later", plan="free")
    segment_journey(service)
    assert evaluate_triggers(service.runtime) == 0, "those in it at publish are not enrolled"
    put(service, "later", plan="pro")
    assert evaluate_triggers(service.runtime) == 1
    assert evaluate_triggers(service.runtime) == 0, "still in: no second run"
    assert enrolled(service) == ["later"]
    put(service, "later", plan="free")
    evaluate_triggers(service.runtime)
    put(service, "later", plan="pro")
    assert evaluate_triggers(service.runtime) == 1, "left and entered again"
    assert enrolled(service) == ["later", "later"]


def test_include_existing_enrols_those_already_in(service: Service) -> None:
    put(service, "already", plan="pro")
    put(service, "other", plan="free")
    segment_journey(service, include_existing=True)
    assert evaluate_triggers(service.runtime) == 1
    assert enrolled(service) == ["already"]


def test_an_unknown_segment_is_refused(service: Service) -> None:
    definition = {
        "key": "j",
        "name": "J",
        "category": "transactional",
        "trigger": {"segment": "nope"},
        "steps": STEPS,
    }
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (
        422,
        "unknown_segment",
        "trigger.segment",
    )


def renewal_journey(service: Service) -> None:
    trigger = {"date_attribute": "renewal_date", "offset": "-P30D", "at": "09:00"}
    definition = {"key": "renewal", "name": "Renewal", "category": "transactional", "trigger": trigger}
    create(service, {**definition, "reentry": "every_time", "steps": STEPS})


def test_a_date_trigger_fires_at_the_local_time_once(service: Service, clock: Clock) -> None:
    put(service, "rome", "Europe/Rome", renewal_date="2027-01-30")  # 30 days before: 31 Dec 2026
    put(service, "ny", "America/New_York", renewal_date="2027-01-30")
    put(service, "other-day", "UTC", renewal_date="2027-02-15")
    put(service, "not-a-date", "UTC", renewal_date="soon")
    renewal_journey(service)
    clock.set(datetime(2026, 12, 31, 7, 59, tzinfo=UTC))  # 08:59 in Rome
    assert evaluate_triggers(service.runtime) == 0
    clock.set(datetime(2026, 12, 31, 8, 0, tzinfo=UTC))
    assert evaluate_triggers(service.runtime) == 1
    assert enrolled(service) == ["rome"]
    clock.set(datetime(2026, 12, 31, 14, 0, tzinfo=UTC))  # 09:00 in New York
    assert evaluate_triggers(service.runtime) == 1
    assert evaluate_triggers(service.runtime) == 0, "once per occasion"
    assert enrolled(service) == ["rome", "ny"]
    with session_scope(service.runtime.engine) as session:
        runs = session.exec(select(Enrolment)).all()
    assert {tuple(run.data.items()) for run in runs} == {(("renewal_date", "2027-01-30"),)}


def test_a_missed_occasion_is_not_acted_on_days_later(service: Service, clock: Clock) -> None:
    put(service, "late", "UTC", renewal_date="2027-01-30")
    renewal_journey(service)
    clock.set(datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    assert evaluate_triggers(service.runtime) == 0


@pytest.mark.parametrize(
    ("day", "offset", "expected"),
    [
        (date(2027, 3, 31), "-P1M", date(2027, 2, 28)),
        (date(2027, 1, 30), "-P30D", date(2026, 12, 31)),
        (date(2027, 1, 31), "P1M1D", date(2027, 3, 1)),
        (date(2028, 2, 29), "P1Y", date(2029, 2, 28)),
    ],
)
def test_shift_date(day: date, offset: str, expected: date) -> None:
    assert shift_date(day, offset) == expected


def test_a_date_offset_has_no_time_of_day(service: Service) -> None:
    trigger = {"date_attribute": "renewal_date", "offset": "-PT30H"}
    definition = {"key": "j", "name": "J", "category": "transactional", "trigger": trigger, "steps": STEPS}
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    assert response.status_code == 422
