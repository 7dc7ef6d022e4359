"""`GET /v1/analytics` (JSON) and `GET /v1/analytics.csv` (the same figures as a spreadsheet-safe CSV)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.analytics.export import filename, report_csv
from ccm.analytics.figures import analytics
from ccm.analytics.params import QueryDep
from ccm.analytics.schemas import AnalyticsReport
from ccm.dependencies import ReadSessionDep, require

router = APIRouter(prefix="/v1", tags=["analytics"])
Reader = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_READ))]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    422: {},
}


@router.get("/analytics", response_model=AnalyticsReport, responses={422: {}})
def analytics_report(session: ReadSessionDep, _caller: Reader, query: QueryDep) -> AnalyticsReport:
    """Sent, delivered, bounced, complaints, failed, people's unique opens and clicks, rates, unsubscribes
    and NPS per template, campaign, channel or provider (`group_by`) over the UTC days [from, to], with
    totals and a daily series (days without events are zeros)."""
    return analytics(session, query)


@router.get("/analytics.csv", response_class=Response, responses=CSV_RESPONSE)
def analytics_csv(session: ReadSessionDep, _caller: Reader, query: QueryDep) -> Response:
    """The groups and totals of `GET /v1/analytics` as CSV; text that a spreadsheet would run as a formula
    (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`, numbers stay numbers."""
    return csv_response(analytics(session, query))


def csv_response(report: AnalyticsReport) -> Response:
    """A download named after the report's grouping and days."""
    disposition = f'attachment; filename="{filename(report)}"'
    return Response(report_csv(report), media_type="text/csv", headers={"Content-Disposition": disposition})
