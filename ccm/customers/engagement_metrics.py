"""One customer's email engagement as a marketer reads it: the last open and click of a person, and the
30- and 90-day open and click rates, counted in SQL (four small queries, whatever the history's length).

A rate's denominator is the customer's emails delivered in the window, or sent in it when the provider
reported no delivery in that window (the local provider and some gateways never do); its numerator is how
many of those emails a person opened (or clicked) at least once. Machines' opens and clicks (image proxies,
link scanners: `detail.machine`) never count: `HUMAN` is the one definition of that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from ccm.customers.profile_schemas import EngagementMetrics, LastEngagement, RateWindow
from ccm.customers.segment_facts import MESSAGES
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN

WINDOWS = (30, 90)
"""Days each rate looks back."""
EMAIL = "email"
"""The channel whose opens are tracked (a pixel): rates are about emails."""
BASES = (EventType.DELIVERED, EventType.SENT)
EVENTS: Table = Event.__table__  # type: ignore[attr-defined]


def engagement_metrics(session: Session, customer_id: int, now: datetime) -> EngagementMetrics:
    """The customer's last human open and click, and their rates over each window ending at `now`."""
    since = {days: now - timedelta(days=days) for days in WINDOWS}
    bases = _base_counts(session, customer_id, since)
    base_kind = {days: _base_of(bases, days) for days in WINDOWS}
    engaged = _engaged_counts(session, customer_id, since, base_kind)
    return EngagementMetrics(
        last_open=_last(session, customer_id, EventType.OPENED),
        last_click=_last(session, customer_id, EventType.CLICKED),
        rates=[_window(days, bases[(days, base_kind[days])], engaged, base_kind[days]) for days in WINDOWS],
    )


def _base_of(bases: dict[tuple[int, EventType], int], days: int) -> EventType:
    """Delivered emails when the window has any, otherwise sent ones."""
    return EventType.DELIVERED if bases[(days, EventType.DELIVERED)] else EventType.SENT


def _window(days: int, emails: int, engaged: dict[tuple[int, EventType], int], base: EventType) -> RateWindow:
    opened, clicked = engaged[(days, EventType.OPENED)], engaged[(days, EventType.CLICKED)]
    return RateWindow(
        days=days,
        counted=base.value,
        emails=emails,
        opened=opened,
        clicked=clicked,
        open_rate=_rate(opened, emails),
        click_rate=_rate(clicked, emails),
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _in_window(kind: EventType, start: datetime) -> Any:
    """The message id of an email `kind` event since `start`, NULL otherwise (for COUNT DISTINCT)."""
    return case((and_(col(Event.type) == kind, col(Event.occurred_at) >= start), col(Event.message_id)))


def _base_counts(
    session: Session, customer_id: int, since: dict[int, datetime]
) -> dict[tuple[int, EventType], int]:
    """Emails delivered and emails sent per window, in one query."""
    keys = [(days, kind) for days in WINDOWS for kind in BASES]
    columns = [func.count(func.distinct(_in_window(kind, since[days]))) for days, kind in keys]
    statement: Any = select_columns(*columns).where(
        col(Event.customer_id) == customer_id,
        col(Event.channel) == EMAIL,
        col(Event.type).in_(BASES),
        col(Event.occurred_at) >= min(since.values()),
    )
    row = session.exec(statement).one()
    return {key: int(count) for key, count in zip(keys, row, strict=True)}


def _engaged_counts(
    session: Session, customer_id: int, since: dict[int, datetime], base: dict[int, EventType]
) -> dict[tuple[int, EventType], int]:
    """Per window, how many of its counted emails a person opened, and clicked, in one query."""
    keys = [(days, kind) for days in WINDOWS for kind in (EventType.OPENED, EventType.CLICKED)]
    columns = [
        func.count(
            func.distinct(
                case(
                    (
                        and_(
                            col(Event.type) == kind,
                            col(Event.message_id).in_(_emails(customer_id, base[days], since[days])),
                        ),
                        col(Event.message_id),
                    )
                )
            )
        )
        for days, kind in keys
    ]
    statement: Any = select_columns(*columns).where(
        col(Event.customer_id) == customer_id,
        col(Event.type).in_((EventType.OPENED, EventType.CLICKED)),
        col(Event.occurred_at) >= min(since.values()),  # an open follows its email's delivery
        HUMAN,
    )
    row = session.exec(statement).one()
    return {key: int(count) for key, count in zip(keys, row, strict=True)}


def _emails(customer_id: int, kind: EventType, start: datetime) -> Any:
    """The ids of the customer's emails with a `kind` event since `start` (the window's denominator)."""
    base = EVENTS.alias("counted")
    return select_columns(base.c.message_id).where(
        base.c.customer_id == customer_id,
        base.c.channel == EMAIL,
        base.c.type == kind,
        base.c.occurred_at >= start,
    )


def _last(session: Session, customer_id: int, kind: EventType) -> LastEngagement | None:
    """The customer's newest human `kind` event, with the key of the template of its message."""
    statement: Any = (
        select_columns(
            col(Event.occurred_at), col(Event.message_id), col(Event.channel), MESSAGES.c.template_key
        )
        .select_from(Event)
        .outerjoin(MESSAGES, MESSAGES.c.id == col(Event.message_id))
        .where(col(Event.customer_id) == customer_id, col(Event.type) == kind, HUMAN)
        .order_by(col(Event.occurred_at).desc(), col(Event.id).desc())
        .limit(1)
    )
    row = session.exec(statement).first()
    if row is None:
        return None
    at, message_id, channel, template = row
    return LastEngagement(at=at, message_id=message_id, channel=channel, template=template)
