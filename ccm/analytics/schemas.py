"""The shape of `GET /v1/analytics`: figures per group, their totals and a daily series."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

GroupBy = Literal["template", "campaign", "channel", "provider"]


class Nps(BaseModel):
    """Net Promoter Score of the survey answers (`ccm.engagement.feedback_figures`)."""

    score: float | None
    responses: int
    promoters: int
    passives: int
    detractors: int


class Figures(BaseModel):
    """Messages with each kind of event in the range; opens and clicks are people's, once per message.

    Rates are over the messages sent in the range (None when none were); click-to-open is unique clicks
    over unique opens (None without opens). `nps` is None where no survey was answered.
    """

    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    complaints: int = 0
    failed: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    unsubscribes: int = 0
    open_rate: float | None = None
    click_rate: float | None = None
    click_to_open: float | None = None
    nps: Nps | None = None


class GroupFigures(Figures):
    """One group: a template key, a campaign id (None: sent outside campaigns), a channel or a provider."""

    key: str | int | None
    label: str
    """How to show the key: a campaign's name, `(none)` for no campaign or provider, else the key."""


class Day(BaseModel):
    """One UTC day of the series; a day without events is all zeros."""

    day: date
    sent: int = 0
    delivered: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    bounced: int = 0
    unsubscribes: int = 0


class AnalyticsReport(BaseModel):
    group_by: GroupBy
    from_date: date
    to_date: date
    totals: Figures
    groups: list[GroupFigures]
    daily: list[Day]
