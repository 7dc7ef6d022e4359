"""The frequency cap: at most `max_messages` marketing messages per customer in a rolling `period_hours`.
One definition for campaign fan-out and for journeys' send steps."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.communications.models import Message, MessageStatus
from ccm.registry.models import Category


def capped(
    session: Session, cap: dict[str, int] | None, customer_ids: Collection[int], now: datetime
) -> set[int]:
    """The customers who already had the cap's worth of marketing messages in its rolling period."""
    if not cap or not customer_ids:
        return set()
    since = now - timedelta(hours=cap["period_hours"])
    rows = session.exec(
        select(Message.customer_id, func.count())
        .where(
            col(Message.customer_id).in_(list(customer_ids)),
            col(Message.category) == Category.MARKETING,
            col(Message.created_at) >= since,
            col(Message.status) != MessageStatus.CANCELLED,
        )
        .group_by(col(Message.customer_id))
    ).all()
    return {customer_id for customer_id, count in rows if count >= cap["max_messages"]}
