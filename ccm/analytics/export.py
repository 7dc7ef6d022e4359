"""The report as a table for `GET /v1/analytics.csv` and the page's "Download CSV": a row per group, then
the totals."""

from __future__ import annotations

from ccm.analytics.schemas import AnalyticsReport, Figures
from ccm.analytics.spreadsheet import Cell, to_csv

COLUMNS = (
    "sent",
    "delivered",
    "bounced",
    "complaints",
    "failed",
    "unique_opens",
    "unique_clicks",
    "open_rate",
    "click_rate",
    "click_to_open",
    "unsubscribes",
)
NPS_COLUMNS = ("nps", "nps_responses", "promoters", "passives", "detractors")


def report_csv(report: AnalyticsReport) -> str:
    """Columns: the group's key and label, the figures, NPS; the last row, with no key, is the totals."""
    header = [report.group_by, "label", *COLUMNS, *NPS_COLUMNS]
    rows = [[group.key, group.label, *_cells(group)] for group in report.groups]
    rows.append([None, "Total", *_cells(report.totals)])
    return to_csv(header, rows)


def _cells(figures: Figures) -> list[Cell]:
    values: list[Cell] = [getattr(figures, name) for name in COLUMNS]
    nps = figures.nps
    if nps is None:
        return [*values, None, 0, 0, 0, 0]
    return [*values, nps.score, nps.responses, nps.promoters, nps.passives, nps.detractors]


def filename(report: AnalyticsReport) -> str:
    return f"analytics-{report.group_by}-{report.from_date}-{report.to_date}.csv"
