"""Tracked clicks and opens onto the timeline, each judged a person's or a machine's (`machines`).

A machine's event is still recorded, so the timeline stays complete, with `detail.machine: true` and
`detail.machine_reason`; the engagement figures count only the others. A burst of clicks on different links
also marks the clicks of that message just before it, which looked human when they came.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import BindParameter, ColumnElement, and_
from sqlmodel import Session, col, select

from ccm.engagement.apple_ranges import stored_ranges
from ccm.engagement.machines import CLICK_RULES, OPEN_RULES, Hit, Judge, Thresholds, first_reason, is_burst
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import MessageIdentity, insert_message_event
from ccm.settings import Settings

BURST = "click_burst"


class TrackedMessage(MessageIdentity, Protocol):
    """A message as tracking needs it: its identity and when it left (the timing rules count from it)."""

    sent_at: datetime | None


def judge_for(settings: Settings) -> Judge:
    """The rules as the operator configured them, with the Apple ranges loaded under the data dir."""
    thresholds = Thresholds(
        click_after_delivery=settings.tracking_click_after_delivery_seconds,
        click_burst=settings.tracking_click_burst_seconds,
        apple_prefetch=settings.tracking_apple_prefetch_seconds,
    )
    return Judge(thresholds, stored_ranges(Path(settings.data_dir)))


def is_machine(detail: dict[str, Any]) -> bool:
    """Whether an event was judged a machine's (events from before classification count as people's)."""
    return detail.get("machine") is True


def record_click(
    session: Session,
    message: TrackedMessage,
    url: str,
    hit: Hit,
    judge: Judge,
    earlier: list[Event] | None = None,
) -> str | None:
    """The click, judged; a burst also marks the message's clicks of the moments before it. `earlier`:
    those clicks (`is_recent_click(burst_start(hit.at, judge))`) when the caller loaded them with the message,
    saving a query on the busiest path of the service. The machine rule's reason, None for a person's."""
    reason = first_reason(CLICK_RULES, hit, judge)
    window = judge.thresholds.click_burst
    if earlier is None:
        earlier = _clicks_since(session, message.id, burst_start(hit.at, judge))
    seen = [(event.occurred_at, str(event.detail.get("url", ""))) for event in earlier]
    if is_burst(url, hit.at, seen, window):
        reason = reason or BURST
        for event in earlier:
            if not is_machine(event.detail):
                event.detail = _machine({**event.detail}, BURST)
    return _record(session, message, EventType.CLICKED, {"url": url}, hit.at, reason)


def record_open(session: Session, message: TrackedMessage, hit: Hit, judge: Judge) -> str | None:
    """The open, judged: image proxies and Apple's prefetch are recorded as machines'. The machine rule's
    reason, None for a person's."""
    return _record(session, message, EventType.OPENED, {}, hit.at, first_reason(OPEN_RULES, hit, judge))


def burst_start(at: datetime, judge: Judge) -> datetime:
    """The earliest moment whose clicks count towards a burst with a click at `at`."""
    return at - timedelta(seconds=judge.thresholds.click_burst)


def is_recent_click(since: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    """An event that is a click at `since` or later (with the message's id: the burst rule's evidence);
    `since` may be a parameter, for a statement built once."""
    return and_(col(Event.type) == EventType.CLICKED, col(Event.occurred_at) >= since)


def _clicks_since(session: Session, message_id: str, since: datetime) -> list[Event]:
    statement = select(Event).where(Event.message_id == message_id, is_recent_click(since))
    return list(session.exec(statement).all())


def _machine(detail: dict[str, Any], reason: str) -> dict[str, Any]:
    return {**detail, "machine": True, "machine_reason": reason}


def _record(
    session: Session,
    message: TrackedMessage,
    kind: EventType,
    detail: dict[str, Any],
    at: datetime,
    reason: str | None,
) -> str | None:
    # occurred_at: the moment the rules judged, so a later burst compares like with like
    judged = detail if reason is None else _machine(detail, reason)
    insert_message_event(session, message, kind, judged, occurred_at=at)
    return reason
