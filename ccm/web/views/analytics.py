"""The analytics page: filters, totals, the daily chart and the per-group table; its JSON for the chart
(`ui/_analytics_chart.html`, also on other pages) and its CSV download, all behind the UI session."""

from __future__ import annotations

from typing import Annotated, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ccm.access.permissions import Permission
from ccm.analytics.figures import analytics
from ccm.analytics.params import QueryDep
from ccm.analytics.routes import csv_response
from ccm.analytics.schemas import GroupBy
from ccm.analytics.window import AnalyticsQuery
from ccm.dependencies import SessionDep
from ccm.web.auth import Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import chart_policy, ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_READ))]
GROUPINGS = get_args(GroupBy)


def query_string(query: AnalyticsQuery, *, with_grouping: bool = True) -> str:
    """The query as its parameters again, for the chart's data, the CSV link and the form's values."""
    values = {
        "group_by": query.group_by if with_grouping else None,
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "template": query.template,
        "campaign": query.campaign,
        "channel": query.channel,
        "provider": query.provider,
    }
    return urlencode({name: value for name, value in values.items() if value is not None})


@router.get("/ui/analytics")
def analytics_page(request: Request, session: SessionDep, viewer: Reader, query: QueryDep) -> Response:
    context = {
        "viewer": viewer,
        "query": query,
        "report": analytics(session, query),
        "groupings": GROUPINGS,
        "chart_query": query_string(query, with_grouping=False),
        "csv_url": f"/ui/analytics/export.csv?{query_string(query)}",
    }
    return ui_page(request, "ui/analytics.html", context, csp=chart_policy())


@router.get("/ui/analytics/data")
def analytics_data(session: SessionDep, _viewer: Reader, query: QueryDep) -> Response:
    """The report as `GET /v1/analytics` has it, for the charts the page's script draws."""
    return JSONResponse(
        analytics(session, query).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )


@router.get("/ui/analytics/export.csv")
def analytics_export(session: SessionDep, _viewer: Reader, query: QueryDep) -> Response:
    return csv_response(analytics(session, query))
