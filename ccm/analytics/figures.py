"""The analytics figures, each a GROUP BY over the timeline joined to the outbox (no loop over events).

A figure counts the messages that had an event of its kind in the range, once each: a message opened
three times on two days is one unique open in the totals and one on each of the two days. Opens and clicks
count only people's (`ccm.engagement.service.HUMAN`: a scanner's click or a proxy's open is marked
`detail.machine`). Events without a message (an SMS STOP not answering one) belong to no template, so
they are not counted. NPS counts each message's latest answer, as `GET /v1/feedback/nps` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from ccm.analytics.days import utc_day
from ccm.analytics.schemas import AnalyticsReport, Day, Figures, GroupFigures, Nps
from ccm.analytics.window import AnalyticsQuery
from ccm.campaigns.models import Campaign
from ccm.communications.models import Message
from ccm.engagement.feedback_figures import KIND, SCORE, FeedbackFilter, figures_from_counts, latest_answers
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN

COUNTED = {
    EventType.SENT: "sent",
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.COMPLAINED: "complaints",
    EventType.FAILED: "failed",
    EventType.OPENED: "unique_opens",
    EventType.CLICKED: "unique_clicks",
    EventType.UNSUBSCRIBED: "unsubscribes",
}
"""Each counted kind of event and the figure it makes."""
PEOPLE_ONLY = (EventType.OPENED, EventType.CLICKED)
GROUP_KEYS: Mapping[str, Any] = {
    "template": col(Message.template_key),
    "campaign": col(Message.campaign_id),
    "channel": col(Message.channel),
    "provider": col(Message.provider),
}
NO_KEY = "(none)"
Counts = dict[str, int]
Answers = dict[tuple[str, int], int]


def analytics(session: Session, query: AnalyticsQuery) -> AnalyticsReport:
    """Figures per group and in total over the range, and the daily series."""
    counts = _group_counts(session, query)
    answers = _group_answers(session, query)
    labels = _labels(session, query, counts.keys() | answers.keys())
    groups = [
        GroupFigures(
            key=key, label=labels.get(key, NO_KEY), **_figures(counts[key], answers[key]).model_dump()
        )
        for key in sorted(counts.keys() | answers.keys(), key=lambda key: (key is None, str(key)))
    ]
    totals = _figures(_summed(counts.values()), _summed(answers.values()))
    return AnalyticsReport(
        group_by=query.group_by,
        from_date=query.first_day,
        to_date=query.last_day,
        totals=totals,
        groups=groups,
        daily=_daily(session, query),
    )


def _conditions(query: AnalyticsQuery) -> list[ColumnElement[bool]]:
    """The filters on the message: a template, campaign, channel or provider."""
    wanted = {
        "template": query.template,
        "campaign": query.campaign,
        "channel": query.channel,
        "provider": query.provider,
    }
    return [GROUP_KEYS[name] == value for name, value in wanted.items() if value is not None]


def _event_counts(query: AnalyticsQuery, key: Any) -> Any:
    """(key, event type, distinct messages) of the counted events in the range, people's opens and clicks."""
    return (
        select_columns(key, col(Event.type), func.count(func.distinct(Event.message_id)))
        .select_from(Event)
        .join(Message, col(Message.id) == col(Event.message_id))
        .where(
            col(Event.type).in_(list(COUNTED)),
            col(Event.occurred_at) >= query.start,
            col(Event.occurred_at) < query.end,
            or_(col(Event.type).not_in(PEOPLE_ONLY), HUMAN),
            *_conditions(query),
        )
        .group_by(key, col(Event.type))
    )


def _group_counts(session: Session, query: AnalyticsQuery) -> defaultdict[Any, Counts]:
    counts: defaultdict[Any, Counts] = defaultdict(dict)
    for key, kind, messages in session.exec(_event_counts(query, GROUP_KEYS[query.group_by])).all():
        counts[key][COUNTED[EventType(kind)]] = messages
    return counts


def _group_answers(session: Session, query: AnalyticsQuery) -> defaultdict[Any, Answers]:
    """(kind, score) -> answers per group, over the latest answer of each message given in the range."""
    key = GROUP_KEYS[query.group_by]
    latest = latest_answers(FeedbackFilter(since=query.start, until=query.end))
    statement: Any = (
        select_columns(key, KIND, SCORE, func.count())
        .select_from(Event)
        .join(Message, col(Message.id) == col(Event.message_id))
        .where(col(Event.id).in_(latest), *_conditions(query))
        .group_by(key, KIND, SCORE)
    )
    answers: defaultdict[Any, Answers] = defaultdict(dict)
    for group, kind, score, count in session.exec(statement).all():
        answers[group][(kind, score)] = count
    return answers


def _daily(session: Session, query: AnalyticsQuery) -> list[Day]:
    day = utc_day(col(Event.occurred_at))
    by_day: defaultdict[str, Counts] = defaultdict(dict)
    for when, kind, messages in session.exec(_event_counts(query, day)).all():
        by_day[str(when)][COUNTED[EventType(kind)]] = messages
    fields = set(Day.model_fields) - {"day"}
    return [
        Day(day=date, **{k: v for k, v in by_day[date.isoformat()].items() if k in fields})
        for date in query.days()
    ]


def _labels(session: Session, query: AnalyticsQuery, keys: Iterable[Any]) -> dict[Any, str]:
    """A campaign's name for its id; any other key shows as itself."""
    present = [key for key in keys if key is not None]
    if query.group_by != "campaign":
        return {key: str(key) for key in present}
    statement: Any = select_columns(col(Campaign.id), col(Campaign.name)).where(col(Campaign.id).in_(present))
    names = session.exec(statement).all()
    found = {campaign_id: name for campaign_id, name in names}
    return {key: found.get(key, f"#{key}") for key in present}


def _summed(groups: Iterable[Mapping[Any, int]]) -> dict[Any, int]:
    """Each message is in one group (a template, campaign, channel, provider), so totals are sums."""
    total: defaultdict[Any, int] = defaultdict(int)
    for group in groups:
        for name, count in group.items():
            total[name] += count
    return dict(total)


def _figures(counts: Mapping[str, int], answers: Mapping[tuple[str, int], int]) -> Figures:
    figures = Figures(**counts)
    figures.open_rate = _ratio(figures.unique_opens, figures.sent)
    figures.click_rate = _ratio(figures.unique_clicks, figures.sent)
    figures.click_to_open = _ratio(figures.unique_clicks, figures.unique_opens)
    feedback = figures_from_counts(answers.items())
    if feedback.responses:
        figures.nps = Nps(
            score=feedback.nps,
            responses=feedback.responses,
            promoters=feedback.promoters,
            passives=feedback.passives,
            detractors=feedback.detractors,
        )
    return figures


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
