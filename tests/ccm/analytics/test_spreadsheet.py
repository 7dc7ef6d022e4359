"""CSV that opens safely in a spreadsheet (`ccm.analytics.spreadsheet`) and the analytics CSV download."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.analytics.spreadsheet import safe_cell, to_csv
from tests.ccm.campaigns.conftest import add_customer, create_campaign, promo, run_fan_out
from tests.ccm.conftest import Service

__all__ = ["promo"]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@a", "'@a"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(text: str, written: str) -> None:
    assert safe_cell(text) == written


@pytest.mark.parametrize("number", [-5, 3.5, 0, -0.25, 12])
def test_numbers_stay_numbers(number: float) -> None:
    assert safe_cell(number) == number
    (row,) = list(csv.reader(io.StringIO(to_csv(["n"], [[number]]))))[1:]
    assert row == [str(number)]


def test_a_document_neutralises_every_text_cell_and_keeps_none_empty() -> None:
    document = to_csv(["=h", "n"], [["@SUM(A1)", -5], [None, 3.5], ["\r\nx", None]])
    rows = list(csv.reader(io.StringIO(document)))
    assert rows == [["'=h", "n"], ["'@SUM(A1)", "-5"], ["", "3.5"], ["'\r\nx", ""]]


def download(service: Service, **params: Any) -> list[list[str]]:
    headers = service.headers(Role.MARKETER)
    response = service.client.get("/v1/analytics.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


def test_the_analytics_csv_neutralises_a_campaign_name_and_keeps_figures_numbers(
    service: Service, promo: str
) -> None:
    for name in ("ann", "bob"):
        add_customer(service, name)
    created = create_campaign(service, name='=HYPERLINK("http://evil.example","x")')
    run_fan_out(service, created["id"])
    assert service.work() == 2
    header, group, total = download(service, group_by="campaign")
    assert header[:4] == ["campaign", "label", "sent", "delivered"] and header[-5] == "nps"
    assert group[:4] == [str(created["id"]), "'" + created["name"], "2", "0"]
    assert total[:3] == ["", "Total", "2"]
    assert group[header.index("open_rate")] == "0.0" and group[header.index("click_to_open")] == ""
