"""Named events posted for a customer (`POST /v1/events`): kept on the customer, they end the runs whose
goal they are, wake the runs waiting for them, and enrol the customer in the journeys they trigger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from ccm.customers.models import Customer
from ccm.customers.service import get_customer
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.journeys.definition import JourneyContent, Reentry
from ccm.journeys.models import CustomerEvent, Enrolment, Journey, JourneyVersion, RunStatus
from ccm.journeys.paths import correlation_of
from ccm.journeys.service import live_definitions


@dataclass(frozen=True)
class Enrolled:
    journey: str
    id: str


def post_event(
    session: Session, customer_id: str, name: str, properties: dict[str, Any], *, now: datetime
) -> list[Enrolled]:
    """Record the event (also on the customer's timeline), then goals, then waits, then triggers (a goal
    never ends a run it starts)."""
    customer = get_customer(session, customer_id)
    session.refresh(customer, with_for_update=True)  # one event per customer at a time: re-entry holds
    assert customer.id is not None
    session.add(CustomerEvent(customer_id=customer.id, name=name, properties=properties, occurred_at=now))
    timeline_detail = {"name": name, "properties": properties}
    record_event(session, customer_id=customer.id, type=EventType.CUSTOMER_EVENT, detail=timeline_detail)
    running = _running(session, customer.id)
    for enrolment, content in running:
        _react(session, enrolment, content, name, properties, now)
    return _enrol(session, customer, name, properties, now)


def _running(session: Session, customer_id: int) -> list[tuple[Enrolment, JourneyContent]]:
    """The customer's active runs with the definitions of the versions they run on."""
    rows = session.exec(
        select(Enrolment, JourneyVersion)
        .join(JourneyVersion, col(JourneyVersion.id) == col(Enrolment.version_id))
        .where(Enrolment.customer_id == customer_id, Enrolment.status == RunStatus.ACTIVE)
        .with_for_update(of=Enrolment)
    ).all()
    return [(enrolment, JourneyContent.model_validate(version.definition)) for enrolment, version in rows]


def _react(
    session: Session,
    enrolment: Enrolment,
    content: JourneyContent,
    name: str,
    properties: dict[str, Any],
    now: datetime,
) -> None:
    goal = content.goal
    if goal is not None and goal.event == name and _matches(enrolment, goal.match, properties):
        enrolment.status, enrolment.end_reason, enrolment.ended_at = RunStatus.GOAL, "goal", now
        enrolment.due_at = enrolment.wait_until = None
        session.add(enrolment)
        return
    step = next((s for s in content.steps if s.id == enrolment.step_id), None)
    if step is not None and step.wait is not None and step.wait.event == name and enrolment.wait_until:
        enrolment.due_at = now  # the worker records that the event came and moves on
        session.add(enrolment)


def _matches(enrolment: Enrolment, path: str | None, properties: dict[str, Any]) -> bool:
    """Without `match`, any goal event ends the run; with it, only one repeating the trigger's value."""
    if path is None:
        return True
    value = correlation_of(properties, path)
    return value is not None and value == enrolment.correlation


def _enrol(
    session: Session, customer: Customer, name: str, properties: dict[str, Any], now: datetime
) -> list[Enrolled]:
    enrolled = []
    for journey, version, content in _triggered_by(session, name):
        if not may_enter(session, journey, customer, content.reentry):
            continue
        enrolment = start_run(session, journey, version, content, customer, properties, now=now)
        enrolled.append(Enrolled(journey=journey.key, id=enrolment.id))
    return enrolled


def _triggered_by(session: Session, name: str) -> list[tuple[Journey, JourneyVersion, JourneyContent]]:
    """Active journeys whose live version is triggered by the event `name`."""
    return [live for live in live_definitions(session) if live[2].trigger.event == name]


def may_enter(session: Session, journey: Journey, customer: Customer, reentry: Reentry) -> bool:
    """Whether the journey's re-entry rule lets the customer start another run now."""
    if reentry is Reentry.EVERY_TIME:
        return True
    statement = select(Enrolment.id).where(
        Enrolment.journey_id == journey.id, Enrolment.customer_id == customer.id
    )
    if reentry is Reentry.ONCE_AT_A_TIME:
        statement = statement.where(Enrolment.status == RunStatus.ACTIVE)
    return session.exec(statement.limit(1)).first() is None


def start_run(
    session: Session,
    journey: Journey,
    version: JourneyVersion,
    content: JourneyContent,
    customer: Customer,
    properties: dict[str, Any],
    *,
    now: datetime,
) -> Enrolment:
    """A new run at the version's first step, due now."""
    assert journey.id is not None and version.id is not None and customer.id is not None
    enrolment = Enrolment(
        id=str(uuid.uuid4()),
        journey_id=journey.id,
        version_id=version.id,
        customer_id=customer.id,
        status=RunStatus.ACTIVE,
        step_id=content.steps[0].id,
        step_entered_at=now,
        due_at=now,
        data=properties,
        correlation=correlation_of(properties, content.goal.match if content.goal else None),
        created_at=now,
        updated_at=now,
    )
    session.add(enrolment)
    session.flush()
    return enrolment
