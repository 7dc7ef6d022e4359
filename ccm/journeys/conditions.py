"""Branch conditions, one function per kind (`CONDITIONS`): each answers yes or no for one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ccm.customers.models import Customer
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN
from ccm.journeys.definition import Comparison, Condition, NpsTest
from ccm.journeys.models import CustomerEvent, Enrolment, StepRun
from ccm.journeys.paths import MISSING, value_at


@dataclass(frozen=True)
class Facts:
    """What a condition may look at: the run, its customer, and the session to read engagement from."""

    session: Session
    enrolment: Enrolment
    customer: Customer


def _message_of(facts: Facts, step_id: str) -> str | None:
    """The message an earlier send step of this run queued, if it queued one."""
    statement = select(StepRun.message_id).where(
        StepRun.enrolment_id == facts.enrolment.id, StepRun.step_id == step_id
    )
    return facts.session.exec(statement).first()


def _engaged(kind: EventType, *, human: bool) -> Callable[[Facts, Any], bool]:
    def test(facts: Facts, step_id: Any) -> bool:
        message_id = _message_of(facts, str(step_id))
        if message_id is None:
            return False
        statement = select(Event.id).where(Event.message_id == message_id, Event.type == kind)
        if human:
            statement = statement.where(HUMAN)
        return facts.session.exec(statement.limit(1)).first() is not None

    return test


def _event_received(facts: Facts, name: Any) -> bool:
    """The event was posted for the customer since this run began."""
    statement = select(CustomerEvent.id).where(
        CustomerEvent.customer_id == facts.enrolment.customer_id,
        CustomerEvent.name == str(name),
        col(CustomerEvent.occurred_at) >= facts.enrolment.created_at,
    )
    return facts.session.exec(statement.limit(1)).first() is not None


def compare(test: Comparison, value: Any) -> bool:
    """`value` (MISSING when absent) against the one test the comparison holds."""
    chosen = test.test
    if chosen == "exists":
        return (value is not MISSING) == test.exists
    if chosen == "equals":
        return value is not MISSING and value == test.equals
    if chosen == "not_equals":
        return value is MISSING or value != test.not_equals
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value > (test.gt or 0.0) if chosen == "gt" else value < (test.lt or 0.0)


def _attribute(facts: Facts, test: Any) -> bool:
    attributes = facts.customer.attributes or {}
    return compare(test, attributes.get(test.name, MISSING))


def _property(facts: Facts, test: Any) -> bool:
    return compare(test, value_at(facts.enrolment.data, test.path))


def _nps(facts: Facts, test: Any) -> bool:
    """The newest NPS answer to the survey step's message lies between `min` and `max`."""
    assert isinstance(test, NpsTest)
    message_id = _message_of(facts, test.step)
    if message_id is None:
        return False
    statement = (
        select(Event)
        .where(Event.message_id == message_id, Event.type == EventType.FEEDBACK)
        .order_by(col(Event.id).desc())
    )
    for event in facts.session.exec(statement).all():
        if event.detail.get("kind") == "nps" and isinstance(event.detail.get("score"), int):
            return test.min <= int(event.detail["score"]) <= test.max
    return False


CONDITIONS: dict[str, Callable[[Facts, Any], bool]] = {
    "opened": _engaged(EventType.OPENED, human=True),
    "clicked": _engaged(EventType.CLICKED, human=True),
    "delivered": _engaged(EventType.DELIVERED, human=False),
    "event_received": _event_received,
    "attribute": _attribute,
    "property": _property,
    "nps": _nps,
}
"""Every condition kind a branch may test, by its key in the definition."""


def holds(facts: Facts, condition: Condition) -> bool:
    return CONDITIONS[condition.kind](facts, condition.value)
