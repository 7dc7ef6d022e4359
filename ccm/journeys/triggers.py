"""Segment and date triggers, evaluated by a scheduled job (`jobs.py`) rather than by a request.

A segment trigger enrols customers as they enter the saved segment: a `segment` mark per journey and
customer records who is in, so only entering enrols (leaving removes the mark, so entering again counts,
the re-entry rule permitting). Those in the segment when the version is published are marked without
enrolling unless the trigger says `include_existing`. A date trigger enrols a customer on the day their
date attribute plus `offset` reaches, once their clock shows `at`, once per occasion (`date:YYYY-MM-DD`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from ccm.campaigns.timing import local_due
from ccm.customers.json_sql import at_path
from ccm.customers.models import Customer
from ccm.customers.segment_sql import dialect_of
from ccm.customers.segments import find_segment, where
from ccm.journeys.definition import JourneyContent
from ccm.journeys.durations import shift_date
from ccm.journeys.events import may_enter, start_run
from ccm.journeys.models import Journey, JourneyVersion, TriggerMark
from ccm.journeys.service import live_definitions

IN_SEGMENT = "segment"
DEFAULT_AT = "09:00"
LATE_BY_AT_MOST = timedelta(days=1)
"""A date occasion is still acted on this long after its time (a job that did not run, a new journey)."""
SLACK_DAYS = 4
"""Days either side when selecting attribute dates in SQL: time zones and month ends, then checked exactly."""


def evaluate(session: Session, now: datetime) -> int:
    """Enrol whoever a live segment or date trigger picks up now; how many runs were started."""
    started = 0
    for journey, version, content in live_definitions(session):
        if content.trigger.segment is not None:
            started += _segment_entrants(session, journey, version, content, now)
        elif content.trigger.date_attribute is not None:
            started += _date_arrivals(session, journey, version, content, now)
    return started


def segment_members(session: Session, key: str, now: datetime) -> set[int]:
    segment = find_segment(session, key)
    if segment is None:  # deleted since the version was saved: nobody enters
        return set()
    return {i for i in session.exec(select(Customer.id).where(where(session, segment.rule, now))).all() if i}


def _marked(session: Session, journey: Journey, mark: str) -> set[int]:
    statement = select(TriggerMark.customer_id).where(
        TriggerMark.journey_id == journey.id, TriggerMark.mark == mark
    )
    return set(session.exec(statement).all())


def baseline(session: Session, journey: Journey, content: JourneyContent, now: datetime) -> None:
    """At publish: those already in a trigger's segment count as in, unless `include_existing`."""
    trigger = content.trigger
    if trigger.segment is None or trigger.include_existing:
        return
    assert journey.id is not None
    for customer_id in segment_members(session, trigger.segment, now) - _marked(session, journey, IN_SEGMENT):
        session.add(
            TriggerMark(journey_id=journey.id, customer_id=customer_id, mark=IN_SEGMENT, created_at=now)
        )
    session.flush()


def _segment_entrants(
    session: Session, journey: Journey, version: JourneyVersion, content: JourneyContent, now: datetime
) -> int:
    assert content.trigger.segment is not None and journey.id is not None
    members = segment_members(session, content.trigger.segment, now)
    marked = _marked(session, journey, IN_SEGMENT)
    left = marked - members
    if left:
        session.exec(
            delete(TriggerMark).where(
                col(TriggerMark.journey_id) == journey.id,
                col(TriggerMark.mark) == IN_SEGMENT,
                col(TriggerMark.customer_id).in_(left),
            )
        )
    started = 0
    for customer_id in sorted(members - marked):
        session.add(
            TriggerMark(journey_id=journey.id, customer_id=customer_id, mark=IN_SEGMENT, created_at=now)
        )
        started += _start(session, journey, version, content, customer_id, {}, now)
    return started


def _date_arrivals(
    session: Session, journey: Journey, version: JourneyVersion, content: JourneyContent, now: datetime
) -> int:
    trigger = content.trigger
    assert trigger.date_attribute is not None and journey.id is not None
    offset = trigger.offset or "P0D"
    inverse = offset.removeprefix("-") if offset.startswith("-") else f"-{offset}"
    value = at_path(Customer.attributes, [trigger.date_attribute], dialect_of(session))
    low = shift_date(now.date() - timedelta(days=SLACK_DAYS), inverse) - timedelta(days=SLACK_DAYS)
    high = shift_date(now.date() + timedelta(days=SLACK_DAYS), inverse) + timedelta(days=SLACK_DAYS)
    candidates = session.exec(
        select(Customer).where(
            value.kind() == "string", value.text() >= low.isoformat(), value.text() <= high.isoformat()
        )
    ).all()
    started = 0
    for customer in candidates:
        raw = (customer.attributes or {}).get(trigger.date_attribute)
        occasion = _occasion(raw, offset)
        if occasion is None or not _due(occasion, trigger.at or DEFAULT_AT, customer.timezone, now):
            continue
        mark = f"date:{occasion.isoformat()}"
        assert customer.id is not None
        if customer.id in _marked(session, journey, mark):
            continue
        session.add(TriggerMark(journey_id=journey.id, customer_id=customer.id, mark=mark, created_at=now))
        started += _start(session, journey, version, content, customer.id, {trigger.date_attribute: raw}, now)
    return started


def _occasion(raw: object, offset: str) -> date | None:
    """The day the trigger fires for an attribute value: its date moved by the offset; None if no date."""
    if not isinstance(raw, str):
        return None
    try:
        return shift_date(date.fromisoformat(raw), offset)
    except (ValueError, OverflowError):
        return None


def _due(occasion: date, at: str, timezone: str, now: datetime) -> bool:
    fires = local_due(occasion, at, timezone)
    return fires <= now < fires + LATE_BY_AT_MOST


def _start(
    session: Session,
    journey: Journey,
    version: JourneyVersion,
    content: JourneyContent,
    customer_id: int,
    data: dict[str, object],
    now: datetime,
) -> int:
    customer = session.get(Customer, customer_id)
    if customer is None or not may_enter(session, journey, customer, content.reentry):
        return 0
    start_run(session, journey, version, content, customer, data, now=now)
    return 1
