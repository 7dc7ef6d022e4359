"""Events onto the customer record: every send, open, click and opt-out lands in one timeline.

This is the lowest domain layer: every other domain records what happened through `record_message_event`
or `record_event`, passing plain values, so the timeline never needs to know who wrote to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.engagement.models import Event, EventType
from ccm.engagement.schemas import EngagementSummary, TimelineEvent


class MessageIdentity(Protocol):
    """What an event needs to know of a message: an outbox row satisfies it, so do plain values."""

    id: str
    customer_id: int
    channel: str


def record_event(
    session: Session,
    *,
    customer_id: int,
    type: EventType,
    message_id: str | None = None,
    channel: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        customer_id=customer_id, type=type, message_id=message_id, channel=channel, detail=detail or {}
    )
    session.add(event)  # flushed with the rest of the unit of work, so inserts are batched
    return event


def record_message_event(
    session: Session,
    message: MessageIdentity,
    type: EventType,
    detail: dict[str, Any] | None = None,
    *,
    channel: str | None = None,
) -> Event:
    """An event about one message, on its customer's timeline (`channel` overrides the message's)."""
    return record_event(
        session,
        customer_id=message.customer_id,
        type=type,
        message_id=message.id,
        channel=channel or message.channel,
        detail=detail,
    )


def engagement_summary(session: Session, customer_id: int | None) -> EngagementSummary:
    """Counts per kind of event; opens and clicks count messages, not repeated hits on one message."""
    if customer_id is None:
        return _summary({})
    return engagement_summaries(session, [customer_id])[customer_id]


def engagement_summaries(session: Session, customer_ids: list[int]) -> dict[int, EngagementSummary]:
    """`engagement_summary` of many customers in one query, for a page of a customer list."""
    rows = session.exec(
        select(
            Event.customer_id,
            Event.type,
            func.count(func.distinct(Event.message_id)),
            func.max(Event.occurred_at),
        )
        .where(col(Event.customer_id).in_(customer_ids))
        .group_by(col(Event.customer_id), col(Event.type))
    ).all()
    counts: dict[int, dict[str, tuple[int, datetime | None]]] = {c: {} for c in customer_ids}
    for customer_id, kind, count, last in rows:
        counts[customer_id][str(kind)] = (count, last)
    return {customer_id: _summary(kinds) for customer_id, kinds in counts.items()}


def _summary(counts: dict[str, tuple[int, datetime | None]]) -> EngagementSummary:
    def count(kind: EventType) -> int:
        return counts.get(kind.value, (0, None))[0]

    def last(kind: EventType) -> datetime | None:
        return counts.get(kind.value, (0, None))[1]

    return EngagementSummary(
        sent=count(EventType.SENT),
        delivered=count(EventType.DELIVERED),
        opened=count(EventType.OPENED),
        clicked=count(EventType.CLICKED),
        failed=count(EventType.FAILED),
        last_sent_at=last(EventType.SENT),
        last_opened_at=last(EventType.OPENED),
        last_clicked_at=last(EventType.CLICKED),
    )


def timeline(
    session: Session, customer_id: int | None, *, limit: int = 100, before_id: int | None = None
) -> tuple[list[TimelineEvent], int | None]:
    """Newest first, paged by event id so a busy customer's history stays cheap to read."""
    statement = select(Event).where(Event.customer_id == customer_id)
    if before_id is not None:
        statement = statement.where(col(Event.id) < before_id)
    events = list(session.exec(statement.order_by(col(Event.id).desc()).limit(limit + 1)).all())
    next_before = events[limit - 1].id if len(events) > limit else None
    items = [
        TimelineEvent(
            type=event.type,
            occurred_at=event.occurred_at,
            message_id=event.message_id,
            channel=event.channel,
            detail=event.detail,
        )
        for event in events[:limit]
    ]
    return items, next_before
