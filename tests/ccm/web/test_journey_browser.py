"""A journey's page in Chromium against the real service, whose background engine runs the journey: the
diagram has a box per step showing the API's counts, keeps them current as runs move, fits 1366 and 390 px,
and a customer's page lists the journey they are in and where."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.conftest import INVOICE_DATA
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, browser_sign_in
from tests.ccm.web.test_campaign_browser import assert_fits
from tests.ccm.web.test_journey_pages import COUNTED, MIXED

pytestmark = pytest.mark.browser
SETTLE_SECONDS = 30


def seed(api: httpx.Client, tag: str) -> str:
    """Customers (four VIPs, two others, one of them without an email address) and the journey, live."""
    for name, vip, email in [(f"vip-{n}", True, True) for n in range(4)] + [
        ("plain-0", False, True),
        ("plain-1", False, False),
    ]:
        body: dict[str, Any] = {
            "timezone": "UTC",
            "attributes": {"vip": vip, "first_name": "Ada", "last_name": name},
        }
        if email:
            body["email"] = f"{tag}-{name}@example.com"
        assert api.put(f"/v1/customers/{tag}-{name}", json=body).status_code in (200, 201)
    key = f"mixed-{tag}"
    created = api.post("/v1/journeys", json={**MIXED, "key": key, "name": f"Mixed {tag}"})
    assert created.status_code == 201, created.text
    published = api.post(f"/v1/journeys/{key}/versions/1/publish")
    assert published.status_code == 200, published.text  # transactional: no second pair of eyes
    return key


def trigger(live: LiveService, customer: str) -> None:
    with live.api(Role.SENDER) as api:
        body = {"customer_id": customer, "name": "invoice_issued", "properties": INVOICE_DATA}
        response = api.post("/v1/events", json=body)
        assert response.status_code == 202, response.text


def settled(live: LiveService, key: str, *, waiting: int, exited: int) -> dict[str, Any]:
    """The API's counts once the background engine carried every run as far as it goes."""
    deadline = time.monotonic() + SETTLE_SECONDS
    with live.api(Role.MARKETER) as api:
        while True:
            steps: dict[str, Any] = api.get(f"/v1/journeys/{key}").json()["steps"]
            if (steps["hold"]["waiting"], steps["done"]["exited"]) == (waiting, exited):
                return steps
            assert time.monotonic() < deadline, steps
            time.sleep(0.2)


def expect_counts(page: Page, steps: dict[str, Any]) -> None:
    """Each box of the diagram shows the step's counts and each branch label its runs, as the API does."""
    for step, counts in steps.items():
        node = page.locator(f'#journey-svg [data-node="{step}"]')
        for name in COUNTED:
            expect(node.locator(f'[data-count="{name}"]')).to_have_text(str(counts[name]))
        expect(node.locator('[data-count="skipped"]')).to_have_text(str(sum(counts["skipped"].values())))
        for way, taken in counts["ways"].items():
            label = page.locator(f'#journey-svg tspan[data-step="{step}"][data-way="{way}"]')
            expect(label).to_have_text(str(taken))
            share = page.locator(f'#journey-svg tspan[data-step="{step}"][data-share="{way}"]')
            expect(share).to_have_text(f"({round(100 * taken / sum(counts['ways'].values()))}%)")


def test_the_journey_diagram_shows_live_counts(page: Page, live: LiveService) -> None:
    tag = uuid.uuid4().hex[:6]
    with live.api() as api:
        key = seed(api, tag)
    for name in ("vip-0", "vip-1", "vip-2", "vip-3", "plain-0", "plain-1"):
        trigger(live, f"{tag}-{name}")
    steps = settled(live, key, waiting=2, exited=4)
    assert steps["check"]["ways"] == {"then": 4, "else": 2}
    assert steps["mail"]["skipped"] == {"no_email_address": 1}

    page.set_viewport_size({"width": 1366, "height": 900})
    browser_sign_in(page, live, Role.MARKETER)
    page.click("header nav >> text=Journeys")
    page.click(f"a[href='/ui/journeys/{key}']")
    expect(page.locator("h1")).to_contain_text(f"Mixed {tag}")
    nodes = page.locator("#journey-svg g.node")
    expect(nodes).to_have_count(len(MIXED["steps"]) + 2)  # the steps, the trigger and the goal
    for step in MIXED["steps"]:
        expect(page.locator(f'#journey-svg [data-node="{step["id"]}"]')).to_be_visible()
    expect_counts(page, steps)
    expect(page.locator("#journey-skips")).to_contain_text("no_email_address")
    assert_fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-journey-1366.png", full_page=True)

    trigger(live, f"{tag}-plain-0")  # another run comes to wait in `hold`: the page catches up by itself
    later = settled(live, key, waiting=3, exited=4)
    expect_counts(page, later)
    expect(page.locator('#journey-steps [data-step="hold"][data-count="waiting"]')).to_have_text("3")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect_counts(page, later)
    assert_fits(page)
    figure = page.locator("#journey-flow figure").bounding_box()
    drawn = page.locator("#journey-svg").bounding_box()
    assert figure is not None and drawn is not None and figure["width"] <= 390
    assert drawn["width"] >= min(544, float(page.locator("#journey-svg").get_attribute("width") or 0))
    # a wide diagram keeps readable text and scrolls inside its card rather than the page
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-journey-390.png", full_page=True)

    page.goto(f"/ui/customers/{tag}-plain-0")
    runs = page.locator("#journeys tbody tr")
    expect(runs).to_have_count(2)
    expect(runs.first).to_contain_text(f"Mixed {tag}")
    expect(runs.first).to_contain_text("hold")
    assert_fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-customer-journeys-390.png", full_page=True)
    runs.first.locator("a").click()
    expect(page).to_have_url(f"{live.base_url}/ui/journeys/{key}?version=1")
