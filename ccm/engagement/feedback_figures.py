"""NPS and CSAT from the survey answers on the timeline, counted in SQL: each message's latest answer.

NPS = % promoters (9-10) - % detractors (0-6) of the NPS answers, rounded to one decimal; CSAT is the
average of the 1-5 answers. Figures narrow to a template, a campaign and a time window, and may be
broken down per template or per campaign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from ccm.engagement.models import Event, EventType
from ccm.engagement.schemas import FeedbackFigures, FeedbackGroup

GroupBy = Literal["template", "campaign"]
KIND = Event.detail["kind"].as_string()
SCORE = Event.detail["score"].as_integer()
GROUPS = {
    "template": Event.detail["template"].as_string(),
    "campaign": Event.detail["campaign_id"].as_integer(),
}


@dataclass(frozen=True)
class FeedbackFilter:
    template: str | None = None
    campaign: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def feedback_figures(session: Session, where: FeedbackFilter, by: GroupBy | None = None) -> FeedbackFigures:
    """The figures over every answer `where` selects, and per template or campaign when `by` is given."""
    rows = session.exec(_counts(where, by)).all()
    totals: dict[tuple[str, int], int] = defaultdict(int)
    groups: dict[Any, dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
    for *grouped, kind, score, count in rows:
        group = grouped[0] if grouped else None
        totals[(kind, score)] += count
        groups[group][(kind, score)] += count
    figures = figures_from_counts(totals.items())
    if by is not None:
        figures.groups = [
            FeedbackGroup(key=group, **figures_from_counts(counts.items()).model_dump(exclude={"groups"}))
            for group, counts in sorted(groups.items(), key=lambda item: str(item[0]))
        ]
    return figures


def _counts(where: FeedbackFilter, by: GroupBy | None) -> Any:
    """([group,] kind, score, answers) over the latest answer of each message to each question."""
    keys = [GROUPS[by]] if by is not None else []
    return (
        select_columns(*keys, KIND, SCORE, func.count())
        .where(col(Event.id).in_(latest_answers(where)))
        .group_by(*keys, KIND, SCORE)
    )


def latest_answers(where: FeedbackFilter) -> Any:
    """The id of each message's latest answer to each question, among those `where` selects (a subquery
    that `ccm.analytics` also counts by its own groups)."""
    conditions: list[ColumnElement[bool]] = [col(Event.type) == EventType.FEEDBACK]
    if where.template is not None:
        conditions.append(GROUPS["template"] == where.template)
    if where.campaign is not None:
        conditions.append(GROUPS["campaign"] == where.campaign)
    if where.since is not None:
        conditions.append(col(Event.occurred_at) >= where.since)
    if where.until is not None:
        conditions.append(col(Event.occurred_at) < where.until)
    return select(func.max(Event.id)).where(*conditions).group_by(col(Event.message_id), KIND)


def figures_from_counts(counts: Iterable[tuple[tuple[str, int], int]]) -> FeedbackFigures:
    """NPS and CSAT from ((kind, score), answers) counts: the one place the figures are worked out."""
    by_kind: dict[str, dict[int, int]] = {"nps": {}, "csat": {}}
    for (kind, score), answers in counts:
        if kind in by_kind:
            by_kind[kind][score] = answers
    return _from_scores(by_kind["nps"], by_kind["csat"])


def _from_scores(nps: dict[int, int], csat: dict[int, int]) -> FeedbackFigures:
    responses = sum(nps.values())
    promoters = sum(n for score, n in nps.items() if score >= 9)
    detractors = sum(n for score, n in nps.items() if score <= 6)
    score = round(100 * (promoters - detractors) / responses, 1) if responses else None
    csat_responses = sum(csat.values())
    average = round(sum(s * n for s, n in csat.items()) / csat_responses, 2) if csat_responses else None
    return FeedbackFigures(
        responses=responses,
        promoters=promoters,
        passives=responses - promoters - detractors,
        detractors=detractors,
        nps=score,
        csat_responses=csat_responses,
        csat_average=average,
    )
