"""In Chromium: a marketer creates a partial from its list page and submits it; another person approves and
publishes it from the same page, whose policy runs no script from elsewhere."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import browser_sign_in


def test_a_partial_is_created_submitted_approved_by_another_and_published(
    page: Page, browser: Browser, live: LiveService
) -> None:
    complaints: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            complaints.append(message.text)

    page.on("console", console)
    key = f"sign-off-{uuid.uuid4().hex[:8]}"
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/partials")
    page.click("#new-item summary")
    page.fill("#new-item input[name=key]", key)
    page.fill("#new-item input[name=name]", "Sign-off")
    page.fill("#new-item textarea[name=source]", "-- ACME, {{ customer.first_name }}")
    page.click("#new-item button[type=submit]")

    expect(page.locator("#source")).to_contain_text("-- ACME, {{ customer.first_name }}")
    page.click("text=Submit v1 for review")
    expect(page.locator("#awaiting-review")).to_be_visible()

    reviewer_context = browser.new_context(base_url=live.base_url)
    reviewer = reviewer_context.new_page()
    browser_sign_in(reviewer, live, Role.ADMIN)
    reviewer.goto(f"/ui/partials/{key}")
    reviewer.click("text=Approve v1")
    reviewer.click("text=Publish v1")
    expect(reviewer.locator("#review")).to_contain_text("v1 is the live version.")
    reviewer_context.close()

    page.reload()
    expect(page.locator("#versions")).to_contain_text("published")
    assert complaints == []
