"""The query parameters of a report, one dependency for the API and the web page so both refuse the same.

An empty parameter (`campaign=`, what a filter form sends for a field left blank) means no filter.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BeforeValidator, Field

from ccm.analytics.schemas import GroupBy
from ccm.analytics.window import AnalyticsQuery, date_range


def _blank_as_none(value: Any) -> Any:
    return None if value == "" else value


Blank = BeforeValidator(_blank_as_none)
Template = Annotated[str, Field(max_length=100)]
CampaignId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Channel = Annotated[str, Field(max_length=20)]
Provider = Annotated[str, Field(max_length=50)]
FIRST = Query(alias="from", description="First UTC day (default: 29 days before `to`)")
LAST = Query(alias="to", description="Last UTC day, included (default: today); at most 366 days in all")


def analytics_query(
    group_by: GroupBy = "template",
    first: Annotated[date | None, Blank, FIRST] = None,
    last: Annotated[date | None, Blank, LAST] = None,
    template: Annotated[Template | None, Blank, Query()] = None,
    campaign: Annotated[CampaignId | None, Blank, Query()] = None,
    channel: Annotated[Channel | None, Blank, Query()] = None,
    provider: Annotated[Provider | None, Blank, Query()] = None,
) -> AnalyticsQuery:
    """A checked report request: at most 366 days, `to` not before `from` (else a 422 naming the field)."""
    first_day, last_day = date_range(first, last)
    return AnalyticsQuery(first_day, last_day, group_by, template, campaign, channel, provider)


QueryDep = Annotated[AnalyticsQuery, Depends(analytics_query)]
