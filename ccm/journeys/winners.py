"""A/B winner selection: once a split's test time has passed, the variant whose send step's messages
people opened (or clicked) at the highest rate is chosen, once, and every later run goes to it.

The test time runs from the first run through the split; opens and clicks are people's only
(`ccm.engagement.service.HUMAN`), so a mail scanner's prefetch never picks a winner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN
from ccm.journeys.definition import SplitStep
from ccm.journeys.durations import add_duration
from ccm.journeys.models import SplitWinner, StepRun

MEASURES = {"opened": EventType.OPENED, "clicked": EventType.CLICKED}


def winner_of(session: Session, version_id: int, step_id: str, split: SplitStep, now: datetime) -> str | None:
    """The split's chosen variant; chosen now if its test time has passed; None while the test runs."""
    assert split.winner is not None
    chosen = _chosen(session, version_id, step_id)
    if chosen is not None:
        return chosen
    started = session.exec(
        select(func.min(StepRun.occurred_at)).where(
            StepRun.version_id == version_id, StepRun.step_id == step_id
        )
    ).one()
    if started is None or now < add_duration(started, split.winner.after, "UTC"):
        return None
    rates = {v.name: rate(session, version_id, v.next, split.winner.by) for v in split.variants}
    best = max(split.variants, key=lambda variant: rates[variant.name]["rate"])  # the first of equals
    try:
        with session.begin_nested():
            session.add(
                SplitWinner(
                    version_id=version_id, step_id=step_id, variant=best.name, rates=rates, chosen_at=now
                )
            )
    except IntegrityError:  # another worker chose at the same moment: theirs stands
        return _chosen(session, version_id, step_id)
    return best.name


def _chosen(session: Session, version_id: int, step_id: str) -> str | None:
    statement = select(SplitWinner.variant).where(
        SplitWinner.version_id == version_id, SplitWinner.step_id == step_id
    )
    return session.exec(statement).first()


def rate(session: Session, version_id: int, send_step: str, by: str) -> dict[str, Any]:
    """Messages the variant's send step queued, how many of them people opened (or clicked), the rate."""
    queued = (
        select(StepRun.message_id)
        .where(
            StepRun.version_id == version_id,
            StepRun.step_id == send_step,
            col(StepRun.message_id).is_not(None),
        )
        .scalar_subquery()
    )
    sent = session.exec(
        select(func.count()).where(
            StepRun.version_id == version_id,
            StepRun.step_id == send_step,
            col(StepRun.message_id).is_not(None),
        )
    ).one()
    engaged = session.exec(
        select(func.count(func.distinct(Event.message_id))).where(
            col(Event.message_id).in_(queued), Event.type == MEASURES[by], HUMAN
        )
    ).one()
    return {"sent": sent, by: engaged, "rate": engaged / sent if sent else 0.0}
