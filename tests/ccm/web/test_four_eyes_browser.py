"""Four-eyes publishing in Chromium, end to end: one marketer edits the welcome email's subject, sees the
preview change before anything is saved, saves and submits it; a second one, signed in with their own
password, reads the diff against the live version, approves and publishes; the next send uses the new subject.
"""

from __future__ import annotations

import email
import uuid
from email import policy

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ccm.access.models import Role
from ccm.access.users import create_user
from ccm.database import make_engine, session_scope
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, send_and_wait

pytestmark = pytest.mark.browser
PASSWORD = "a-long-password-here"
TEMPLATE = "welcome"
"""A marketing template: four-eyes applies to its versions by default."""


def new_user(live: LiveService, role: Role) -> str:
    """A person who signs in with `PASSWORD`, by a fresh email."""
    address = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        create_user(session, email=address, role=role, password=PASSWORD)
    engine.dispose()
    return address


def password_sign_in(page: Page, address: str) -> None:
    """Sign in from the login page as a person does: email and password, no API key."""
    page.goto("/ui/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header")).to_contain_text(address)


def versions_of(live: LiveService) -> tuple[int, int | None]:
    """The template's (latest, live) version numbers as the API reports them."""
    with live.api(Role.MARKETER) as api:
        body = api.get(f"/v1/templates/{TEMPLATE}").json()
        return body["latest_version"], body["published_version"]


def new_page(browser: Browser, live: LiveService) -> tuple[BrowserContext, Page]:
    """A browser context of its own: a second person, with their own cookies."""
    context = browser.new_context(base_url=live.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_one_marketer_edits_and_submits_another_approves_and_publishes_and_sends_use_it(
    page: Page, browser: Browser, live: LiveService
) -> None:
    subject = f"Your Example Co account is ready ({uuid.uuid4().hex[:6]})"
    author, approver = new_user(live, Role.MARKETER), new_user(live, Role.MARKETER)
    before, live_before = versions_of(live)

    password_sign_in(page, author)
    page.goto(f"/ui/templates/{TEMPLATE}", wait_until="domcontentloaded")
    expect(page.locator("#preview-email .subject")).not_to_contain_text(subject)
    page.fill("input[name=email_subject]", subject)
    expect(page.locator("#preview-email .subject")).to_have_text(subject)
    expect(page.locator("#live-preview")).to_contain_text("Unsaved changes")
    assert versions_of(live) == (before, live_before)  # previewed, nothing saved

    page.click("button:has-text('Save as new draft')")
    draft = before + 1
    expect(page).to_have_url(f"{live.base_url}/ui/templates/{TEMPLATE}?version={draft}")
    assert versions_of(live) == (draft, live_before)
    page.click(f"button:has-text('Submit v{draft} for review')")
    expect(page.locator("#review h2 .status")).to_have_text("submitted")
    expect(page.locator("#awaiting-review")).to_be_visible()
    expect(page.locator("#review button", has_text="Approve")).to_have_count(0)  # not on their own version
    expect(page.locator("button", has_text=f"Publish v{draft}")).to_have_count(0)

    context, second = new_page(browser, live)
    try:
        password_sign_in(second, approver)
        second.goto(f"/ui/templates/{TEMPLATE}?version={draft}", wait_until="domcontentloaded")
        expect(second.locator("#review")).to_contain_text(f"From the live v{live_before} to v{draft}")
        expect(second.locator("#review pre.diff .diff-add")).to_contain_text(subject)
        expect(second.locator("#review pre.diff .diff-del")).to_contain_text("Welcome to Example Co,")
        expect(second.locator("#awaiting-review")).to_have_count(0)
        second.click(f"button:has-text('Approve v{draft}')")
        expect(second.locator("#review h2 .status")).to_have_text("approved")
        expect(second.locator("#history")).to_contain_text(author)
        expect(second.locator("#history")).to_contain_text(approver)
        second.click(f"button:has-text('Publish v{draft}')")
        expect(second.locator("#review")).to_contain_text(f"v{draft} is the live version")
        second.screenshot(path=f"{SCREENSHOTS}/ccm-ui-four-eyes.png", full_page=True)
    finally:
        context.close()
    assert versions_of(live) == (draft, draft)

    body = {
        "template": TEMPLATE,
        "customer_id": "c-1",
        "channels": ["email"],
        "data": {"cta_url": "https://example.com/start"},
    }
    message_id = send_and_wait(live, body)
    with live.api() as api:
        assert api.get(f"/v1/messages/{message_id}").json()["template_version"] == draft
    sent = email.message_from_bytes(
        (live.settings.outbox_dir / f"{message_id}.eml").read_bytes(), policy=policy.default
    )
    assert sent["Subject"] == subject
