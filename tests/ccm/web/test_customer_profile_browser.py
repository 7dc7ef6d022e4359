"""In Chromium at 1366 and 390 px: the customer page's engagement, consent history and segments fit the
screen; on a phone the consent history's rows wrap into label/value blocks instead of scrolling sideways."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, browser_sign_in

pytestmark = pytest.mark.browser


def seed(live: LiveService) -> str:
    """A customer with a long consent history (a long source too) and a saved segment holding them."""
    external_id = f"profile-{uuid.uuid4().hex[:8]}"
    with live.api() as api:
        body = {
            "email": f"{external_id}@example.com",
            "attributes": {"first_name": "Ada", "tier": external_id},
        }
        assert api.put(f"/v1/customers/{external_id}", json=body).status_code == 201
        for state, source in (("revoked", "crm-nightly-sync.salesforce.eu-west-1"), ("granted", "api")) * 3:
            change = {"consents": [{"channel": "email", "state": state}], "source": source}
            assert api.put(f"/v1/customers/{external_id}/consent", json=change).status_code == 200
        rule = {"all": [{"attribute": "tier", "op": "eq", "value": external_id}]}
        segment = {"key": external_id, "name": "Everyone of this test", "rule": rule}
        assert api.post("/v1/segments", json=segment).status_code == 201
    return external_id


def fits(page: Page) -> bool:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    return viewport is not None and width <= viewport["width"]


def test_the_customer_page_fits_a_laptop_and_a_phone(page: Page, live: LiveService) -> None:
    external_id = seed(live)
    browser_sign_in(page, live, Role.MARKETER)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/ui/customers/{external_id}")
    history = page.locator("#consent-history table")
    expect(history.locator("tbody tr")).to_have_count(6)
    expect(history.locator("thead")).to_be_visible()
    expect(page.locator("#segments")).to_contain_text(external_id)
    expect(page.locator("dd.rates[data-days='90']")).to_contain_text("no email sent")
    assert fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-customer-1366.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    expect(history.locator("thead")).to_be_hidden()
    first = history.locator("tbody tr").first
    expect(first.locator("td[data-label=Source]")).to_contain_text("api")
    box, table = first.bounding_box(), history.bounding_box()
    assert box is not None and table is not None and box["width"] <= table["width"] <= 390
    assert fits(page)
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-customer-390.png", full_page=True)
