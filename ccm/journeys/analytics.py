"""Journey analytics (`GET /v1/journeys/{key}/analytics`): per send step and per split variant, the
messages sent, people's unique opens and clicks, and the runs that went on to reach the goal.

Everything is a GROUP BY over `journey_step_runs`, which links each send step to the message it queued
(`message_id`) and each split to the variant a run went to (`detail.variant`). Opens and clicks are
people's only (`ccm.engagement.service.HUMAN`, as in `ccm.analytics.figures`). A conversion is a run that
passed the step (or went to the variant) and ended by reaching the goal. A variant's messages are those its
runs queued in the steps after the split: the definition has no cycle, so a step reachable from the split
can only come after it in a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, func
from sqlalchemy import select as select_columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ccm.communications.models import Message, MessageStatus
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN
from ccm.journeys.checks import successors
from ccm.journeys.definition import JourneyContent
from ccm.journeys.models import Enrolment, Journey, JourneyVersion, RunStatus, SplitWinner, StepRun

SENT = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
"""A queued message counts as sent once the provider took it (and stays so when delivered)."""
ENGAGEMENT = {EventType.OPENED.value: "unique_opens", EventType.CLICKED.value: "unique_clicks"}


class Figures(BaseModel):
    """Runs counted (that passed a send step with a message, or went to a variant), their messages sent,
    people's unique opens and clicks of them, and the runs that reached the goal; rates are None over 0."""

    runs: int = 0
    sent: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    conversions: int = 0
    open_rate: float | None = None
    click_rate: float | None = None
    conversion_rate: float | None = None


class SendFigures(Figures):
    step: str
    template: str
    channels: list[str]


class VariantFigures(Figures):
    name: str
    percent: int


class SplitFigures(BaseModel):
    step: str
    winner: str | None
    """The variant chosen for every later run, once a split with `winner` chose one."""
    variants: list[VariantFigures]


class JourneyAnalytics(BaseModel):
    key: str
    version: int | None
    """The version counted; None: runs of every version, steps as the live (else newest) version has them."""
    sends: list[SendFigures]
    splits: list[SplitFigures]


def journey_analytics(
    session: Session, journey: Journey, shown: JourneyVersion, *, only: bool
) -> JourneyAnalytics:
    """The report for the steps of `shown`, counting its runs only when `only`, else every version's."""
    content = JourneyContent.model_validate(shown.definition)
    scope = _Scope(journey, shown.id if only else None)
    sends = _send_figures(session, scope)
    return JourneyAnalytics(
        key=journey.key,
        version=shown.number if only else None,
        sends=[
            SendFigures(
                step=step.id,
                template=step.send.template,
                channels=step.send.channels,
                **_rated(sends.get(step.id, {})),
            )
            for step in content.steps
            if step.send is not None
        ],
        splits=[_split_figures(session, scope, content, index) for index in _split_indexes(content)],
    )


class _Scope:
    """Which step runs count: the journey's, and only one version's when `version_id` is set."""

    def __init__(self, journey: Journey, version_id: int | None) -> None:
        self.journey_id, self.version_id = journey.id, version_id

    def where(self, runs: Any) -> list[ColumnElement[bool]]:
        conditions = [col(Enrolment.journey_id) == self.journey_id]
        if self.version_id is not None:
            conditions.append(runs.version_id == self.version_id)
        return conditions


def _goal() -> Any:
    return func.sum(case((col(Enrolment.status) == RunStatus.GOAL.value, 1), else_=0))


def _send_figures(session: Session, scope: _Scope) -> dict[str, dict[str, int]]:
    """Per step id: runs that queued a message there, those sent, people's opens and clicks, conversions."""
    sent = func.sum(case((col(Message.status).in_(SENT), 1), else_=0))
    statement: Any = (
        select_columns(col(StepRun.step_id), func.count(), sent, _goal())
        .select_from(StepRun)
        .join(Enrolment, col(Enrolment.id) == col(StepRun.enrolment_id))
        .outerjoin(Message, col(Message.id) == col(StepRun.message_id))
        .where(col(StepRun.message_id).is_not(None), *scope.where(StepRun))
        .group_by(col(StepRun.step_id))
    )
    figures: dict[str, dict[str, int]] = {}
    for step_id, runs, sent_count, goals in session.exec(statement).all():
        figures[step_id] = {"runs": runs, "sent": sent_count or 0, "conversions": goals or 0}
    engaged: Any = (
        select_columns(col(StepRun.step_id), col(Event.type), func.count(func.distinct(Event.message_id)))
        .select_from(StepRun)
        .join(Enrolment, col(Enrolment.id) == col(StepRun.enrolment_id))
        .join(Event, col(Event.message_id) == col(StepRun.message_id))
        .where(col(Event.type).in_(list(ENGAGEMENT)), HUMAN, *scope.where(StepRun))
        .group_by(col(StepRun.step_id), col(Event.type))
    )
    for step_id, kind, messages in session.exec(engaged).all():
        figures.setdefault(step_id, {})[ENGAGEMENT[str(kind)]] = messages
    return figures


def _split_indexes(content: JourneyContent) -> list[int]:
    return [index for index, step in enumerate(content.steps) if step.split is not None]


def _split_figures(session: Session, scope: _Scope, content: JourneyContent, index: int) -> SplitFigures:
    """One split's variants: their runs and conversions, and the messages their runs queued after it."""
    step = content.steps[index]
    assert step.split is not None
    split = aliased(StepRun)
    variant = split.detail["variant"].as_string()
    runs: Any = (
        select_columns(variant, func.count(), _goal())
        .select_from(split)
        .join(Enrolment, col(Enrolment.id) == split.enrolment_id)
        .where(col(split.step_id) == step.id, *scope.where(split))
        .group_by(variant)
    )
    figures: dict[str, dict[str, int]] = {}
    for name, count, goals in session.exec(runs).all():
        figures[str(name)] = {"runs": count, "conversions": goals or 0}
    for name, measure, count in _variant_messages(session, scope, split, step.id, _after(content, index)):
        figures.setdefault(str(name), {})[measure] = count
    return SplitFigures(
        step=step.id,
        winner=_winner(session, scope, step.id),
        variants=[
            VariantFigures(name=v.name, percent=v.percent, **_rated(figures.get(v.name, {})))
            for v in step.split.variants
        ],
    )


def _variant_messages(
    session: Session, scope: _Scope, split: Any, step_id: str, after: set[str]
) -> Iterable[tuple[str, str, int]]:
    """(variant, measure, messages): sent, and people's unique opens and clicks, of the sends after it."""
    send = aliased(StepRun)
    variant = split.detail["variant"].as_string()
    joined = and_(send.enrolment_id == split.enrolment_id, col(send.step_id).in_(sorted(after)))
    base = [col(split.step_id) == step_id, col(send.message_id).is_not(None), *scope.where(split)]
    sent: Any = (
        select_columns(variant, func.count(func.distinct(Message.id)))
        .select_from(split)
        .join(Enrolment, col(Enrolment.id) == split.enrolment_id)
        .join(send, joined)
        .join(Message, col(Message.id) == send.message_id)
        .where(*base, col(Message.status).in_(SENT))
        .group_by(variant)
    )
    for name, count in session.exec(sent).all():
        yield name, "sent", count
    engaged: Any = (
        select_columns(variant, col(Event.type), func.count(func.distinct(Event.message_id)))
        .select_from(split)
        .join(Enrolment, col(Enrolment.id) == split.enrolment_id)
        .join(send, joined)
        .join(Event, col(Event.message_id) == send.message_id)
        .where(*base, col(Event.type).in_(list(ENGAGEMENT)), HUMAN)
        .group_by(variant, col(Event.type))
    )
    for name, kind, count in session.exec(engaged).all():
        yield name, ENGAGEMENT[str(kind)], count


def _after(content: JourneyContent, index: int) -> set[str]:
    """The ids of every step reachable from the step at `index` (not itself)."""
    positions = {step.id: i for i, step in enumerate(content.steps)}
    seen: set[str] = set()
    pending = successors(content.steps, index)
    while pending:
        step_id = pending.pop()
        if step_id not in seen:
            seen.add(step_id)
            pending.extend(successors(content.steps, positions[step_id]))
    return seen


def _winner(session: Session, scope: _Scope, step_id: str) -> str | None:
    """The chosen variant; over every version, the newest version's choice."""
    statement = (
        select(SplitWinner.variant)
        .join(JourneyVersion, col(JourneyVersion.id) == col(SplitWinner.version_id))
        .where(JourneyVersion.journey_id == scope.journey_id, SplitWinner.step_id == step_id)
        .order_by(col(JourneyVersion.number).desc())
    )
    if scope.version_id is not None:
        statement = statement.where(SplitWinner.version_id == scope.version_id)
    return session.exec(statement).first()


def _rated(counts: dict[str, int]) -> dict[str, Any]:
    figures = Figures(**counts)
    figures.open_rate = _ratio(figures.unique_opens, figures.sent)
    figures.click_rate = _ratio(figures.unique_clicks, figures.sent)
    figures.conversion_rate = _ratio(figures.conversions, figures.runs)
    return figures.model_dump()


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
