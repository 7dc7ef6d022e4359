"""A marketer creates a campaign in Chromium against the real service, which fans it out in-process."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, browser_sign_in

pytestmark = pytest.mark.browser
FAN_OUT_MS = 30_000
"""The live service's scheduler looks for due campaigns every few seconds (`campaign_poll_seconds`)."""


def seed_cohort(live: LiveService, size: int) -> tuple[str, int]:
    """`size` new customers sharing a cohort attribute and a saved segment of them; the segment's key and
    the count the API's preview gives for it."""
    cohort = uuid.uuid4().hex[:8]
    with live.api() as api:
        for n in range(size):
            body = {"email": f"{cohort}-{n}@example.com", "timezone": "UTC", "attributes": {"cohort": cohort}}
            assert api.put(f"/v1/customers/{cohort}-{n}", json=body).status_code in (200, 201)
        rule = {"all": [{"attribute": "cohort", "op": "eq", "value": cohort}]}
        saved = api.post(
            "/v1/segments", json={"key": f"cohort-{cohort}", "name": f"Cohort {cohort}", "rule": rule}
        )
        assert saved.status_code == 201, saved.text
        preview = api.post("/v1/segments:preview", json={"segment_key": f"cohort-{cohort}"})
        assert preview.status_code == 200, preview.text
        count: int = preview.json()["count"]
    return f"cohort-{cohort}", count


def quiet_window_away_from_now() -> tuple[str, str]:
    """Quiet hours that do not hold back a message sent now (the customers are in UTC)."""
    now = datetime.now(UTC)
    return (now + timedelta(hours=3)).strftime("%H:%M"), (now + timedelta(hours=4)).strftime("%H:%M")


def assert_fits(page: Page) -> None:
    """The page does not scroll sideways (wide tables scroll inside their `.table-wrap`)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], (page.url, width)


def test_marketer_creates_a_campaign_in_the_ui(page: Page, live: LiveService) -> None:
    segment_key, real_count = seed_cohort(live, 3)
    assert real_count == 3
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/campaigns")
    page.click("text=New campaign")
    expect(page).to_have_url(f"{live.base_url}/ui/campaigns/new")

    page.fill("input[name=name]", f"Welcome {segment_key}")
    page.select_option("select[name=template]", "welcome")
    expect(page.locator("input[name=channels][value=email]")).to_be_checked()  # the template's channel
    expect(page.locator("input[name=channels][value=sms]")).to_be_disabled()  # welcome has no SMS part
    page.check("input[name=segment_kind][value=saved]")
    page.select_option("select[name=segment_key]", segment_key)
    expect(page.locator("#segment-count")).to_have_text(f"{real_count} customers selected now")

    page.fill("textarea[name=segment]", '{"all": [{"attribute": "cohort", "op": "near"}]}')
    expect(page.locator("#segment-count")).to_contain_text("segment.all[0]")  # the rule's bad part
    page.select_option("select[name=segment_key]", segment_key)  # back to the saved segment
    expect(page.locator("input[name=segment_kind][value=saved]")).to_be_checked()
    expect(page.locator("#segment-count")).to_have_text(f"{real_count} customers selected now")

    start, end = quiet_window_away_from_now()
    page.fill("input[name=quiet_start]", start)
    page.fill("input[name=quiet_end]", end)
    page.fill("input[name=cap_messages]", "5")
    page.fill("input[name=cap_hours]", "24")
    page.fill("textarea[name=data]", '{"cta_url": "https://example.com/start"}')
    page.set_viewport_size({"width": 390, "height": 844})
    assert_fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-campaign-new-390.png", full_page=True)
    page.click("button:has-text('Create campaign')")

    expect(page).to_have_url(re.compile(rf"{re.escape(live.base_url)}/ui/campaigns/\d+$"))
    settings = page.locator("#campaign-settings")
    expect(settings).to_contain_text(f"{start} to {end}")
    expect(settings).to_contain_text("at most 5 per 24 h")
    expect(settings).to_contain_text(f"the rule of saved segment {segment_key}")
    progress = page.locator("#campaign-progress")
    expect(progress.locator("[data-field=targeted]")).to_have_text(str(real_count), timeout=FAN_OUT_MS)
    expect(progress.locator("[data-field=status]")).to_have_text("completed", timeout=FAN_OUT_MS)
    expect(progress.locator("[data-field=queued]")).to_have_text(str(real_count))
    sent = re.compile(rf"(sent|delivered): {real_count}")
    expect(progress.locator("[data-field=messages]")).to_contain_text(sent, timeout=FAN_OUT_MS)
    expect(page.locator("#campaign-engagement h2")).to_have_text("Engagement")
    page.reload()  # the chart of a finished campaign: its messages per day since it was created
    chart = page.locator("#campaign-engagement").get_by_role("img", name=re.compile("Daily sent"))
    expect(chart).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    expect(chart.locator("canvas")).to_have_count(1)
    drawn = page.evaluate(
        "fetch(document.querySelector('#campaign-engagement [data-chart-src]').dataset.chartSrc)"
        ".then(r => r.json())"
    )
    assert sum(day["sent"] for day in drawn["daily"]) == real_count
    assert int(chart.get_attribute("data-points") or 0) == len(drawn["daily"])
    assert_fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-campaign-detail-390.png", full_page=True)

    page.goto("/ui/campaigns")
    assert_fits(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click(f"text=Welcome {segment_key}")
    expect(page.locator("h1")).to_contain_text(f"Welcome {segment_key}")
