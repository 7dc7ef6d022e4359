"""Pause, resume and cancel. Held messages leave the claimable set (status `paused`) and come back.

The worker's claim query only takes queued/rendering/archived/sending rows, so a `paused` message is
invisible to it without any join; a message a worker has already leased is left to finish.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, insert, or_, update
from sqlmodel import Session, col, select

from ccm.campaigns.models import Campaign, CampaignStatus
from ccm.campaigns.service import get_campaign
from ccm.channels import deadline_seconds
from ccm.communications.models import Message, MessageStatus
from ccm.database import utcnow
from ccm.engagement.models import Event, EventType
from ccm.errors import Conflict
from ccm.settings import Settings

CHUNK = 1000


def pause(session: Session, campaign_id: int) -> Campaign:
    """Stop the fan-out and hold every queued message nobody has claimed."""
    campaign = _changeable(session, campaign_id)
    now = utcnow()
    session.exec(
        update(Message)
        .where(
            col(Message.campaign_id) == campaign_id,
            col(Message.status) == MessageStatus.QUEUED,
            _not_leased(now),
        )
        .values(status=MessageStatus.PAUSED, updated_at=now)
    )
    return _set_status(session, campaign, CampaignStatus.PAUSED, now)


def resume(session: Session, campaign_id: int, *, settings: Settings) -> Campaign:
    """Release held messages (deadlines renewed if the pause ate them) and continue the fan-out."""
    campaign = _changeable(session, campaign_id)
    if campaign.status != CampaignStatus.PAUSED:
        return campaign
    now = utcnow()
    for channel in campaign.channels:
        deadline = now + timedelta(seconds=deadline_seconds(settings, channel))
        session.exec(
            update(Message)
            .where(
                col(Message.campaign_id) == campaign_id,
                col(Message.status) == MessageStatus.PAUSED,
                col(Message.channel) == channel,
                col(Message.deadline_at) < deadline,
            )
            .values(deadline_at=deadline)
        )
    session.exec(
        update(Message)
        .where(col(Message.campaign_id) == campaign_id, col(Message.status) == MessageStatus.PAUSED)
        .values(status=MessageStatus.QUEUED, updated_at=now)
    )
    if campaign.completed_at is not None:
        status = CampaignStatus.COMPLETED
    else:
        status = CampaignStatus.RUNNING if campaign.started_at else CampaignStatus.SCHEDULED
    return _set_status(session, campaign, status, now)


def cancel(session: Session, campaign_id: int) -> Campaign:
    """Stop the fan-out for good and cancel every queued or held message nobody has claimed."""
    campaign = _changeable(session, campaign_id)
    now = utcnow()
    while _cancel_chunk(session, campaign_id, now):
        pass
    return _set_status(session, campaign, CampaignStatus.CANCELLED, now)


def _cancel_chunk(session: Session, campaign_id: int, now: datetime) -> bool:
    rows = session.exec(
        select(Message.id, Message.customer_id, Message.channel)
        .where(
            col(Message.campaign_id) == campaign_id,
            col(Message.status).in_((MessageStatus.QUEUED, MessageStatus.PAUSED)),
            _not_leased(now),
        )
        .limit(CHUNK)
    ).all()
    if not rows:
        return False
    session.exec(
        update(Message)
        .where(col(Message.id).in_([row[0] for row in rows]))
        .values(status=MessageStatus.CANCELLED, updated_at=now)
    )
    events = [
        {
            "customer_id": customer_id,
            "type": EventType.CANCELLED,
            "message_id": message_id,
            "channel": channel,
            "detail": {"campaign_id": campaign_id},
            "occurred_at": now,
        }
        for message_id, customer_id, channel in rows
    ]
    session.exec(insert(Event), params=events)
    return len(rows) == CHUNK


def _not_leased(now: datetime) -> ColumnElement[bool]:
    return or_(col(Message.lease_until).is_(None), col(Message.lease_until) < now)


def _changeable(session: Session, campaign_id: int) -> Campaign:
    """The campaign, locked against a concurrent fan-out batch; a cancelled one changes no more."""
    campaign = get_campaign(session, campaign_id, for_update=True)
    if campaign.status == CampaignStatus.CANCELLED:
        raise Conflict(f"campaign {campaign_id} is cancelled", field="campaign_id", code="campaign_cancelled")
    return campaign


def _set_status(session: Session, campaign: Campaign, status: CampaignStatus, now: datetime) -> Campaign:
    campaign.status = status
    campaign.updated_at = now
    session.add(campaign)
    session.flush()
    return campaign
