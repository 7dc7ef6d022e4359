"""The analytics page on the real service: Chromium sees the daily chart drawn from the session JSON with
one point per day, at desktop and phone widths; the page keeps its tables without the chart bundle and
offers the CSV under the UI session."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ccm.access.models import Role
from ccm.database import make_engine, session_scope
from ccm.engagement.models import Event, EventType
from ccm.web import rendering
from tests.ccm.web.conftest import LiveService, SignedIn, browser, context, live, page, playwright, signed_in
from tests.ccm.web.test_browser import browser_sign_in, send_and_wait

__all__ = ["browser", "context", "live", "page", "playwright", "signed_in"]  # the web tests' fixtures
pytestmark = pytest.mark.browser
WELCOME = {
    "template": "welcome",
    "customer_id": "c-1",
    "channels": ["email"],
    "data": {"cta_url": "https://example.com/go"},
}


def days_back(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def sent(live: LiveService) -> list[str]:
    """Two welcome emails sent by the live worker; the first one's sending moved three days back."""
    ids = [send_and_wait(live, WELCOME) for _ in range(2)]
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        statement = select(Event).where(Event.message_id == ids[0], Event.type == EventType.SENT)
        for event in session.exec(statement).all():
            event.occurred_at -= timedelta(days=3)
    engine.dispose()
    return ids


@pytest.mark.parametrize("width", [1366, 390])
def test_the_chart_draws_one_point_per_day_of_the_range(
    page: Page, live: LiveService, sent: list[str], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    browser_sign_in(page, live, Role.MARKETER)
    page.click("header nav >> text=Analytics")
    expect(page.locator("h1")).to_have_text("Analytics")
    page.fill("input[name=from]", days_back(6))
    page.fill("input[name=to]", days_back(0))
    page.click("#analytics-filters button[type=submit]")

    chart = page.get_by_role(
        "img", name="Daily sent, delivered, unique opens, unique clicks, bounces and unsubscribes"
    )
    expect(chart).to_have_attribute("data-points", "7")
    canvas = chart.locator("canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and 0 < box["width"] <= width
    daily = page.evaluate(
        "fetch(document.querySelector('[data-chart-src]').dataset.chartSrc).then(r => r.json())"
    )
    sent_per_day = {day["day"]: day["sent"] for day in daily["daily"]}
    assert sent_per_day[days_back(3)] >= 1 and sent_per_day[days_back(0)] >= 1 and len(sent_per_day) == 7
    welcome = page.locator("#analytics-table tbody tr", has_text="welcome")
    expect(welcome.locator("td").nth(1)).to_have_text(str(sum(sent_per_day.values())))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_without_the_bundle_the_page_keeps_its_tables_and_the_csv_downloads(
    signed_in: SignedIn, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(Role.MARKETER)
    page = client.get("/ui/analytics", params={"from": days_back(6), "to": days_back(0)})
    assert page.status_code == 200 and "/static/charts/charts.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]

    monkeypatch.setattr(rendering, "CHARTS_BUNDLE", rendering.STATIC_DIR / "charts" / "missing.js")
    bare = client.get("/ui/analytics", params={"from": days_back(6), "to": days_back(0)})
    assert bare.status_code == 200 and "charts.js" not in bare.text
    assert 'id="analytics-table"' in bare.text and 'id="analytics-days"' in bare.text

    link = client.get("/ui/analytics/export.csv", params={"group_by": "channel"})
    assert link.status_code == 200 and link.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(link.text)))
    assert rows[0][:3] == ["channel", "label", "sent"] and rows[1][:1] == ["email"]
    assert int(rows[-1][2]) >= len(sent)
    refused = client.get("/ui/analytics/data", params={"from": days_back(0), "to": days_back(1)})
    assert refused.status_code == 422
