"""Events onto the customer record: every send, open, click and opt-out lands in one timeline.

This is the lowest domain layer: every other domain records what happened through `record_message_event`
or `record_event`, passing plain values, so the timeline never needs to know who wrote to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, func, insert
from sqlmodel import Session, col, select

from ccm.engagement.models import Event, EventType
from ccm.engagement.schemas import EngagementSummary, FeedbackAnswer, TimelineEvent
from ccm.webhooks.events import emit_event

EVENTS: Table = Event.__table__  # type: ignore[attr-defined]
INSERT_EVENT = insert(EVENTS)
"""Built once: a statement built per call pays for its cache key each time (values are parameters)."""


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
    occurred_at: datetime | None = None,
) -> Event:
    event = Event(
        customer_id=customer_id, type=type, message_id=message_id, channel=channel, detail=detail or {}
    )
    if occurred_at is not None:
        event.occurred_at = occurred_at  # set before the INSERT: changing it after would cost an UPDATE
    session.add(event)  # flushed with the rest of the unit of work, so inserts are batched
    return event


def record_message_event(
    session: Session,
    message: MessageIdentity,
    type: EventType,
    detail: dict[str, Any] | None = None,
    *,
    channel: str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """An event about one message, on its customer's timeline (`channel` overrides the message's); the
    kinds a CRM may subscribe to also go out as webhooks, in the same transaction: people's only, since a
    CRM acts on an open or click as a person's (a scanner's click or a proxy's open stays on the timeline)."""
    event = record_event(
        session,
        customer_id=message.customer_id,
        type=type,
        message_id=message.id,
        channel=channel or message.channel,
        detail=detail,
        occurred_at=occurred_at,
    )
    _emit_webhook(session, message, type, event.channel, event.detail, event.occurred_at)
    return event


def insert_message_event(
    session: Session,
    message: MessageIdentity,
    type: EventType,
    detail: dict[str, Any],
    *,
    occurred_at: datetime,
) -> None:
    """`record_message_event` as one INSERT sent at once, for the busiest paths (tracked clicks and opens):
    the same row and the same webhooks, in the caller's transaction, but no ORM object, so no unit of work
    to flush, which cost more CPU than the rest of a click together. The row is not in the session."""
    row = {
        "customer_id": message.customer_id,
        "type": type,
        "message_id": message.id,
        "channel": message.channel,
        "detail": detail,
        "occurred_at": occurred_at,
    }
    session.execute(INSERT_EVENT, row)
    _emit_webhook(session, message, type, message.channel, detail, occurred_at)


def _emit_webhook(
    session: Session,
    message: MessageIdentity,
    type: EventType,
    channel: str | None,
    detail: dict[str, Any],
    occurred_at: datetime,
) -> None:
    """The event as an outbound webhook, when its kind is one and it was not judged a machine's."""
    webhook = WEBHOOK_EVENTS.get(type)
    if webhook is not None and not detail.get("machine"):
        emit_event(session, webhook, _webhook_payload(message, channel, detail, occurred_at))


WEBHOOK_EVENTS = {
    EventType.DELIVERED: "message.delivered",
    EventType.BOUNCED: "message.bounced",
    EventType.OPENED: "message.opened",
    EventType.CLICKED: "message.clicked",
    EventType.UNSUBSCRIBED: "customer.unsubscribed",
    EventType.FEEDBACK: "feedback.received",
}
"""Timeline events that are also outbound webhook events (`ccm.webhooks.events.WebhookEventType`)."""


def _webhook_payload(
    message: MessageIdentity, channel: str | None, detail: dict[str, Any], occurred_at: datetime
) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "customer_id": message.customer_id,
        "channel": channel,
        "occurred_at": occurred_at.isoformat(),
        "detail": detail,
    }


HUMAN = Event.detail["machine"].as_boolean().is_not(True)
"""Events not judged a machine's (`ccm.engagement.tracking`): the only ones engagement figures count."""


def engagement_summary(session: Session, customer_id: int | None) -> EngagementSummary:
    """Counts per kind of event; opens and clicks count messages, not repeated hits on one message, and
    only people's: a scanner's click or a proxy's open (`detail.machine`) stays on the timeline alone."""
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
        .where(col(Event.customer_id).in_(customer_ids), HUMAN)
        .group_by(col(Event.customer_id), col(Event.type))
    ).all()
    counts: dict[int, dict[str, tuple[int, datetime | None]]] = {c: {} for c in customer_ids}
    for customer_id, kind, count, last in rows:
        counts[customer_id][str(kind)] = (count, last)
    answers = last_feedback_of(session, customer_ids)
    return {c: _summary(kinds, answers.get(c)) for c, kinds in counts.items()}


def last_feedback_of(session: Session, customer_ids: list[int]) -> dict[int, FeedbackAnswer]:
    """Each customer's newest survey answer (`ccm.engagement.feedback`), for their record."""
    newest = (
        select(func.max(Event.id))
        .where(col(Event.customer_id).in_(customer_ids), Event.type == EventType.FEEDBACK)
        .group_by(col(Event.customer_id))
    )
    events = session.exec(select(Event).where(col(Event.id).in_(newest))).all()
    return {event.customer_id: _answer(event) for event in events}


def _answer(event: Event) -> FeedbackAnswer:
    detail = event.detail
    return FeedbackAnswer(
        kind=str(detail.get("kind", "")),
        score=int(detail.get("score", 0)),
        comment=str(detail.get("comment") or ""),
        message_id=event.message_id,
        answered_at=event.occurred_at,
        template=detail.get("template"),
    )


def _summary(
    counts: dict[str, tuple[int, datetime | None]], feedback: FeedbackAnswer | None = None
) -> EngagementSummary:
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
        last_feedback=feedback,
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
