"""Consent per channel and topic: the current state (`consents`) and every change (`consent_events`).

A customer without a record counts as opted in to marketing, as before topics existed. A channel as a
whole is opted out in `unsubscriptions` (what `consent.unsubscribed_channels` shows); a topic is opted out
with a `revoked` consent; `pending` on a channel (topic "") waits for a double opt-in confirmation. Every
change, from any source (the CRM, the preference centre, an SMS keyword, an unsubscribe link), is one
`ConsentEvent`, so the history is complete whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from ccm.channels import all_channels
from ccm.customers.consent_log import CHANNEL, ConsentState, record_change
from ccm.customers.consent_schemas import (
    ChannelConsent,
    ConsentHistoryEntry,
    ConsentOut,
    ConsentUpdate,
    TopicConsent,
)
from ccm.customers.models import Consent, ConsentEvent, Customer, Unsubscription
from ccm.customers.service import unsubscribe, unsubscribed_channels
from ccm.customers.topics import get_topic, list_topics
from ccm.database import utcnow
from ccm.errors import Unprocessable


def set_topic(
    session: Session, customer: Customer, channel: str, topic: str, state: ConsentState, *, source: str
) -> bool:
    """Store the customer's consent for `topic` on `channel`; False when it already was so."""
    assert customer.id is not None
    current = _consent(session, customer.id, channel, topic)
    if current is not None and current.state == state.value:
        return False
    current = current or Consent(
        customer_id=customer.id, channel=channel, topic=topic, state=state.value, source=source
    )
    current.state, current.source, current.updated_at = state.value, source, utcnow()
    session.add(current)
    record_change(session, customer.id, channel, topic, state, source=source)
    session.flush()
    return True


def set_channel(session: Session, customer: Customer, channel: str, subscribed: bool, *, source: str) -> bool:
    """Opt the customer in to or out of marketing on a whole channel; False when nothing changed. An opt-in
    is recorded even without an opt-out before it: it is also what confirms a double opt-in."""
    assert customer.id is not None
    if not subscribed:
        return unsubscribe(session, customer, channel, source=source)
    opt_out = session.exec(
        select(Unsubscription).where(
            Unsubscription.customer_id == customer.id, Unsubscription.channel == channel
        )
    ).first()
    recorded = _consent(session, customer.id, channel, CHANNEL)
    if opt_out is None and recorded is not None and recorded.state == ConsentState.GRANTED:
        return False
    if opt_out is not None:
        session.delete(opt_out)
    if not set_topic(session, customer, channel, CHANNEL, ConsentState.GRANTED, source=source):
        # Granted before the opt-out, which left that record alone: lifting the opt-out is the change.
        record_change(session, customer.id, channel, CHANNEL, ConsentState.GRANTED, source=source)
    return True


def _consent(session: Session, customer_id: int, channel: str, topic: str) -> Consent | None:
    return session.exec(
        select(Consent).where(
            Consent.customer_id == customer_id, Consent.channel == channel, Consent.topic == topic
        )
    ).first()


def consents_of(session: Session, customer_ids: Iterable[int]) -> list[Consent]:
    """The stored consents of many customers in one query (the send rules read these)."""
    ids = set(customer_ids)
    if not ids:
        return []
    return list(session.exec(select(Consent).where(col(Consent.customer_id).in_(ids))).all())


def history(session: Session, customer_id: int, *, limit: int = 500) -> list[ConsentEvent]:
    """Newest first."""
    statement = (
        select(ConsentEvent)
        .where(ConsentEvent.customer_id == customer_id)
        .order_by(col(ConsentEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())


def customers_with_phone(session: Session, phone: str) -> list[Customer]:
    """Every customer recorded with this number (an SMS keyword speaks for all of them)."""
    return list(
        session.exec(select(Customer).where(Customer.phone == phone).order_by(col(Customer.id))).all()
    )


def consent_view(session: Session, customer: Customer, *, double_opt_in_email: bool = False) -> ConsentOut:
    """The current state per marketing channel and per topic on each of its channels, with the history;
    under double opt-in an email address nobody confirmed is `pending`."""
    assert customer.id is not None
    stored = {(c.channel, c.topic): c.state for c in consents_of(session, [customer.id])}
    if double_opt_in_email:
        stored.setdefault(("email", CHANNEL), ConsentState.PENDING.value)
    opted_out = unsubscribed_channels(session, customer)
    channels = [
        ChannelConsent(channel=key, state=_channel_state(key, opted_out, stored))
        for key in consent_channels()
    ]
    topics = [
        TopicConsent(
            topic=topic.key,
            channel=channel,
            state=stored.get((channel, topic.key), ConsentState.GRANTED),
            recorded=(channel, topic.key) in stored,
        )
        for topic in list_topics(session)
        for channel in topic.channels
    ]
    entries = [
        ConsentHistoryEntry(
            channel=e.channel,
            topic=e.topic or None,
            state=e.state,
            source=e.source,
            detail=e.detail,
            at=e.created_at,
        )
        for e in history(session, customer.id)
    ]
    return ConsentOut(
        external_id=customer.external_id,
        channels=channels,
        topics=topics,
        unsubscribed_channels=opted_out,
        history=entries,
    )


def _channel_state(channel: str, opted_out: list[str], stored: dict[tuple[str, str], str]) -> Any:
    if channel in opted_out:
        return ConsentState.REVOKED.value
    return stored.get((channel, CHANNEL), ConsentState.GRANTED.value)


def consent_channels() -> list[str]:
    """The channels that carry marketing, so have consent (email and SMS)."""
    return [spec.key for spec in all_channels() if spec.marketing_consent]


def apply_changes(session: Session, customer: Customer, request: ConsentUpdate) -> None:
    """Apply each change in order; a topic must exist and apply to the channel (422 otherwise)."""
    for index, change in enumerate(request.consents):
        state = ConsentState(change.state)
        if change.topic is None:
            set_channel(
                session, customer, change.channel, state == ConsentState.GRANTED, source=request.source
            )
            continue
        topic = get_topic(session, change.topic, field=f"consents[{index}].topic")
        if change.channel not in topic.channels:
            raise Unprocessable(
                f"topic '{topic.key}' is not sent on {change.channel}",
                field=f"consents[{index}].channel",
                code="topic_not_on_channel",
            )
        set_topic(session, customer, change.channel, topic.key, state, source=request.source)


def confirmed(session: Session, customer: Customer, channel: str) -> bool:
    """Whether the customer confirmed (or otherwise explicitly granted) marketing on the whole channel."""
    assert customer.id is not None
    recorded = _consent(session, customer.id, channel, CHANNEL)
    return recorded is not None and recorded.state == ConsentState.GRANTED
