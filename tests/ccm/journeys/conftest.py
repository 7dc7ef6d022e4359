"""Journey test helpers: the service with a test clock, journeys through the API, the engine run directly.

`clock` moves the journey engine's time (`CCM_TEST_CLOCK_FILE`); `run()` carries every due run on;
`INVOICE_CHASE` is the issue's definition; `reminder` checks its `invoice-reminder` SMS starter is live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.communications.models import Message
from ccm.database import session_scope
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.journeys.demo import INVOICE_CHASE as INVOICE_CHASE  # the definition, re-exported
from ccm.journeys.engine import JourneyRunner
from ccm.journeys.models import Enrolment, StepRun
from tests.ccm.conftest import INVOICE_DATA, Service, ServiceFactory

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    path: Path
    now: datetime = START

    def set(self, moment: datetime) -> None:
        self.now = moment
        self.path.write_text(moment.isoformat())

    def advance(self, delta: timedelta) -> None:
        self.set(self.now + delta)


@pytest.fixture
def clock(tmp_path: Path) -> Clock:
    clock = Clock(tmp_path / "clock")
    clock.set(START)
    return clock


@pytest.fixture
def service(service_factory: ServiceFactory, clock: Clock) -> Service:
    """The service whose journey engine reads `clock` (the `customer` fixture uses this one too)."""
    return service_factory(test_clock_file=clock.path)


@pytest.fixture
def reminder(service: Service) -> str:
    """The chase's SMS template: the `invoice-reminder` starter, live since the service loaded it."""
    response = service.client.get("/v1/templates/invoice-reminder", headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    assert response.json()["published_version"] == 1, response.text
    return "invoice-reminder"


def create(service: Service, definition: dict[str, Any], *, publish: bool = True) -> dict[str, Any]:
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    if publish:
        path = f"/v1/journeys/{definition['key']}/versions/1/publish"
        published = service.client.post(path, headers=service.headers(Role.MARKETER))
        assert published.status_code == 200, published.text
    result: dict[str, Any] = response.json()
    return result


def post_event(
    service: Service,
    name: str,
    properties: dict[str, Any] | None = None,
    *,
    customer: str = "c-1",
    key: str | None = None,
) -> Any:
    headers = service.headers(Role.SENDER)
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"customer_id": customer, "name": name, "properties": properties or {}}
    return service.client.post("/v1/events", json=body, headers=headers)


def enrol(service: Service, name: str, properties: dict[str, Any] | None = None, **kwargs: Any) -> str:
    response = post_event(service, name, properties, **kwargs)
    assert response.status_code == 202, response.text
    enrolments = response.json()["enrolments"]
    assert len(enrolments) == 1, enrolments
    return str(enrolments[0]["id"])


def run(service: Service) -> int:
    """Carry every due run on, as a worker would."""
    return JourneyRunner(service.runtime.engine, service.settings).run_until_idle()


def invoice(number: str = "2026-001") -> dict[str, Any]:
    return {"invoice": {**INVOICE_DATA["invoice"], "number": number}}


def messages(service: Service) -> list[Message]:
    with session_scope(service.runtime.engine) as session:
        return list(session.exec(select(Message).order_by(col(Message.created_at))).all())


def enrolment(service: Service, enrolment_id: str) -> Enrolment:
    with session_scope(service.runtime.engine) as session:
        found = session.get(Enrolment, enrolment_id)
        assert found is not None
        return found


def step_runs(service: Service, enrolment_id: str) -> dict[str, StepRun]:
    with session_scope(service.runtime.engine) as session:
        rows = session.exec(select(StepRun).where(StepRun.enrolment_id == enrolment_id)).all()
        return {row.step_id: row for row in rows}


def record_open(service: Service, message_id: str, *, machine: bool = False) -> None:
    """An open of the message, as the tracking pixel records it (a person's unless `machine`)."""
    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        detail = {"machine": True, "machine_reason": "image_proxy"} if machine else {}
        record_message_event(session, message, EventType.OPENED, detail)
