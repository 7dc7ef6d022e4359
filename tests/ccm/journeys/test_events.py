"""`POST /v1/events`: recorded on the customer, enrolling by each journey's re-entry rule; a retried
request (same Idempotency-Key) enrols once; an unknown customer is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from ccm.database import session_scope
from ccm.journeys.models import CustomerEvent
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import Clock, create, enrolment, post_event, run


def flow(reentry: str) -> dict[str, Any]:
    return {
        "key": "flow",
        "name": "Flow",
        "category": "transactional",
        "trigger": {"event": "signup"},
        "reentry": reentry,
        "steps": [{"id": "w", "wait": {"duration": "P1D"}}, {"id": "x", "exit": {}}],
    }


def enrolled(service: Service, **kwargs: Any) -> list[dict[str, Any]]:
    response = post_event(service, "signup", {"plan": "gold"}, **kwargs)
    assert response.status_code == 202, response.text
    result: list[dict[str, Any]] = response.json()["enrolments"]
    return result


def test_an_unknown_customer_is_404(service: Service) -> None:
    response = post_event(service, "signup", customer="nobody")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "customer_not_found")


def test_the_event_is_kept_on_the_customer(service: Service, customer: dict[str, Any]) -> None:
    post_event(service, "signup", {"plan": "gold"})
    with session_scope(service.runtime.engine) as session:
        events = session.exec(select(CustomerEvent)).all()
    assert [(e.name, e.properties) for e in events] == [("signup", {"plan": "gold"})]


def test_a_retried_request_enrols_once(service: Service, customer: dict[str, Any]) -> None:
    create(service, flow("every_time"))
    first = post_event(service, "signup", {"plan": "gold"}, key="evt-1")
    again = post_event(service, "signup", {"plan": "gold"}, key="evt-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and len(first.json()["enrolments"]) == 1
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = post_event(service, "signup", {"plan": "silver"}, key="evt-1")
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    with session_scope(service.runtime.engine) as session:
        assert len(session.exec(select(CustomerEvent)).all()) == 1


def test_once_enrols_a_customer_once_ever(service: Service, customer: dict[str, Any], clock: Clock) -> None:
    create(service, flow("once"))
    [first] = enrolled(service)
    assert first["journey"] == "flow"
    assert enrolled(service) == []
    post_event(service, "other")
    assert enrolment(service, first["id"]).data == {"plan": "gold"}
    _finish(service, clock, first["id"])
    assert enrolled(service) == []


def test_once_at_a_time_waits_for_the_run_to_end(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    create(service, flow("once_at_a_time"))
    [first] = enrolled(service)
    assert enrolled(service) == []
    _finish(service, clock, first["id"])
    assert len(enrolled(service)) == 1


def test_every_time_starts_a_run_per_event(service: Service, customer: dict[str, Any]) -> None:
    create(service, flow("every_time"))
    ids = {e["id"] for e in enrolled(service) + enrolled(service) + enrolled(service)}
    assert len(ids) == 3


@pytest.mark.parametrize("properties", [{"deep": {"x": [1, {"y": "z"}]}}, {}])
def test_properties_become_the_runs_data(
    service: Service, customer: dict[str, Any], properties: dict[str, Any]
) -> None:
    create(service, flow("every_time"))
    response = post_event(service, "signup", properties)
    run_id = response.json()["enrolments"][0]["id"]
    assert enrolment(service, run_id).data == properties


def _finish(service: Service, clock: Clock, run_id: str) -> None:
    """Let the run go through its day's wait to its exit."""
    run(service)
    clock.advance(timedelta(days=1, seconds=1))
    run(service)
    assert enrolment(service, run_id).status == "exited"
