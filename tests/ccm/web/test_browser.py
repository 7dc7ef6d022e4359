"""The UI in Chromium against the real service: previews, the outbox after a real send, roles, sign-in."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService

pytestmark = pytest.mark.browser
SCREENSHOTS = "/tmp"  # looked at during development, never committed


def browser_sign_in(page: Page, live: LiveService, role: Role) -> None:
    page.goto("/ui/login")
    page.fill("input[name=api_key]", live.keys[role])
    page.click("button[type=submit]")
    expect(page.locator("header nav")).to_be_visible()


def send_and_wait(live: LiveService, body: dict[str, Any]) -> str:
    """Send through the HTTP API as admin and wait for the in-process worker to hand it to the outbox."""
    with live.api() as api:
        accepted = api.post("/v1/messages", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert accepted.status_code == 202, accepted.text
        message_id: str = accepted.json()["messages"][0]["id"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status = api.get(f"/v1/messages/{message_id}").json()["status"]
            if status == "sent":
                return message_id
            assert status not in ("failed", "bounced", "cancelled"), status
            time.sleep(0.1)
    raise AssertionError(f"message {message_id} was not sent in time")


def test_marketer_previews_the_invoice_for_a_real_customer(page: Page, live: LiveService) -> None:
    browser_sign_in(page, live, Role.MARKETER)
    page.click("table >> text=invoice")
    expect(page).to_have_url(f"{live.base_url}/ui/templates/invoice")
    page.select_option("select[name=customer_id]", "c-1")
    page.click("button:has-text('Preview')")
    expect(page).to_have_url(f"{live.base_url}/ui/templates/invoice?version=1&customer_id=c-1")

    email = page.frame_locator("#preview-email iframe")
    expect(email.locator("body")).to_contain_text("Giulia")  # the customer's first name, not the sample's
    expect(email.locator("body")).to_contain_text("INV-2024-0042")
    expect(page.locator("#preview-email .subject")).to_have_text("Your invoice INV-2024-0042")
    expect(page.locator("#preview-sms .sms-encoding")).to_have_text("GSM-7")
    expect(page.locator("#preview-sms .sms-segments")).to_have_text("1")

    pdf_url = page.locator("#preview-pdf iframe").get_attribute("src")
    assert pdf_url == "/ui/templates/invoice/versions/1/preview.pdf?customer_id=c-1"
    pdf = page.request.get(pdf_url)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-template-preview.png", full_page=True)


def test_sent_email_shows_in_the_outbox(page: Page, live: LiveService) -> None:
    number = f"WEB-{uuid.uuid4().hex[:8].upper()}"
    invoice = {
        "number": number,
        "issue_date": "2026-11-01",
        "due_date": "2026-11-30",
        "currency": "EUR",
        "lines": [{"description": "Fibre 1 Gbit/s", "quantity": 1, "unit_price": "39.90"}],
        "total": "39.90",
    }
    body = {"template": "invoice", "customer_id": "c-1", "channels": ["email"], "data": {"invoice": invoice}}
    message_id = send_and_wait(live, body)

    browser_sign_in(page, live, Role.ADMIN)
    page.click("header nav >> text=Outbox")
    page.click(f"text=Your invoice {number}")
    expect(page).to_have_url(f"{live.base_url}/ui/outbox/{message_id}")
    expect(page.locator("h1")).to_have_text(f"Your invoice {number}")
    expect(page.locator(".headers")).to_contain_text("giulia.rossi@example.com")
    expect(page.locator(".headers")).to_contain_text(f"<{message_id}@")  # transactional: no List-Unsubscribe

    html = page.frame_locator("#email iframe.mail")
    expect(html.locator("body")).to_contain_text(number)
    expect(html.locator("body")).to_contain_text("Giulia")

    link = page.locator(".attachments a", has_text="invoice.pdf")
    href = link.get_attribute("href")
    assert href == f"/ui/outbox/{message_id}/attachments/0"
    attachment = page.request.get(href)
    assert attachment.headers["content-type"] == "application/pdf"
    assert attachment.body().startswith(b"%PDF-")
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-outbox-email.png", full_page=True)

    with live.api() as api:  # the page's CSP kept the open pixel from loading: looking is not opening
        events = api.get("/v1/customers/c-1/timeline").json()["events"]
    assert not [e for e in events if e["message_id"] == message_id and e["type"] == "opened"]


@pytest.mark.parametrize("role", [Role.SENDER, Role.COMPLIANCE])
def test_roles_without_outbox_access_are_refused(page: Page, live: LiveService, role: Role) -> None:
    browser_sign_in(page, live, role)
    nav = page.locator("header nav")
    expect(nav).to_contain_text("Templates")
    expect(nav).not_to_contain_text("Outbox")
    response = page.goto("/ui/outbox")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("needs the 'outbox:read' permission")
    expect(page.locator("main")).to_contain_text("admin or marketer")


def test_sender_sees_templates_but_no_authoring(page: Page, live: LiveService) -> None:
    browser_sign_in(page, live, Role.SENDER)
    response = page.goto("/ui/templates/invoice")
    assert response is not None and response.status == 200  # senders hold templates:read
    expect(page.locator("#new-draft")).to_have_count(0)
    expect(page.locator("button", has_text="Publish")).to_have_count(0)


def test_wrong_key_shows_an_error(page: Page, live: LiveService) -> None:
    page.goto("/ui/login")
    page.fill("input[name=api_key]", "ccm_not-a-real-key")
    page.click("button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("not valid")
    expect(page.locator("header nav")).to_have_count(0)


def test_sign_out_ends_the_session(page: Page, live: LiveService) -> None:
    browser_sign_in(page, live, Role.MARKETER)
    page.click("text=Sign out")
    expect(page).to_have_url(f"{live.base_url}/ui/login")
    page.goto("/ui/customers")
    expect(page).to_have_url(f"{live.base_url}/ui/login?next=%2Fui%2Fcustomers")
