"""Per-step counts of a journey's runs, over all its versions, for `GET /v1/journeys/{key}` (and a
diagram later): waiting, passed, skipped by reason, exited, reached the goal."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.journeys.models import Enrolment, Journey, Outcome, RunStatus, StepRun
from ccm.journeys.schemas import StepCounts

_AT_STEP = {RunStatus.ACTIVE: "waiting", RunStatus.EXITED: "exited", RunStatus.GOAL: "goal"}


def step_counts(session: Session, journey: Journey, step_ids: list[str]) -> dict[str, StepCounts]:
    counts = {step_id: StepCounts() for step_id in step_ids}
    runs = session.exec(
        select(StepRun.step_id, StepRun.outcome, StepRun.reason, func.count())
        .join(Enrolment, col(Enrolment.id) == col(StepRun.enrolment_id))
        .where(Enrolment.journey_id == journey.id)
        .group_by(col(StepRun.step_id), col(StepRun.outcome), col(StepRun.reason))
    ).all()
    for step_id, outcome, reason, count in runs:
        entry = counts.setdefault(step_id, StepCounts())
        if outcome == Outcome.PASSED:
            entry.passed += count
        else:
            entry.skipped[reason or "unknown"] = entry.skipped.get(reason or "unknown", 0) + count
    places = session.exec(
        select(Enrolment.step_id, Enrolment.status, func.count())
        .where(Enrolment.journey_id == journey.id, col(Enrolment.status).in_(list(_AT_STEP)))
        .group_by(col(Enrolment.step_id), col(Enrolment.status))
    ).all()
    for place, status, count in places:
        if place is not None:
            entry = counts.setdefault(place, StepCounts())
            setattr(entry, _AT_STEP[RunStatus(status)], getattr(entry, _AT_STEP[RunStatus(status)]) + count)
    return counts
