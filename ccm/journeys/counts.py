"""Per-step counts of a journey's runs, over all its versions, for `GET /v1/journeys/{key}` and the
journey's page: waiting, passed, skipped by reason, exited, reached the goal, and which way runs left a
branch or split (its conversion)."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from ccm.journeys.models import Enrolment, Journey, Outcome, RunStatus, StepRun
from ccm.journeys.schemas import StepCounts

_AT_STEP = {
    RunStatus.ACTIVE: "waiting",
    RunStatus.EXITED: "exited",
    RunStatus.GOAL: "goal",
    RunStatus.FAILED: "failed",
}


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
    for step_id, way, count in way_counts(session, journey):
        ways = counts.setdefault(step_id, StepCounts()).ways
        ways[way] = ways.get(way, 0) + count
    return counts


def way_counts(session: Session, journey: Journey) -> list[tuple[str, str, int]]:
    """(step id, way, runs) for the branch and split steps runs passed: a branch's step run records its
    condition's `result` (`then` when true, `else`), a split's the `variant` it chose."""
    detail = col(StepRun.detail)
    result, variant = detail["result"].as_boolean(), detail["variant"].as_string()
    rows = session.exec(
        select(StepRun.step_id, result, variant, func.count())
        .join(Enrolment, col(Enrolment.id) == col(StepRun.enrolment_id))
        .where(Enrolment.journey_id == journey.id, StepRun.outcome == Outcome.PASSED)
        .where(or_(result.is_not(None), variant.is_not(None)))
        .group_by(col(StepRun.step_id), result, variant)
    ).all()
    found = []
    for step_id, taken, name, count in rows:
        way = name if name is not None else ("then" if taken else "else")
        found.append((step_id, way, count))
    return found
