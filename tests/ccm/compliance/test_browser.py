"""Compliance pages in Chromium: a compliance user searches, opens and downloads; a marketer is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import (  # noqa: F401 (fixtures)
    LiveService,
    SignedIn,
    browser,
    context,
    live,
    page,
    playwright,
    signed_in,
)
from tests.ccm.web.test_browser import browser_sign_in, send_and_wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def archived(live: LiveService) -> str:  # noqa: F811
    with live.api() as api:
        body: dict[str, Any] = {
            "email": "ada@example.com",
            "phone": "+393471234509",
            "locale": "en",
            "attributes": {"first_name": "Ada", "last_name": "Lovelace"},
        }
        assert api.put("/v1/customers/ada", json=body).status_code in (200, 201)
    return send_and_wait(
        live,
        {
            "template": "welcome",
            "customer_id": "ada",
            "data": {"cta_url": "https://example.com/start"},
            "channels": ["email"],
        },
    )


def test_compliance_user_searches_views_and_downloads(page: Page, live: LiveService, archived: str) -> None:  # noqa: F811
    browser_sign_in(page, live, Role.COMPLIANCE)
    page.click("header nav >> text=Archive")
    page.fill("input[name=email]", "ada@example.com")
    page.select_option("select[name=channel]", "email")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#total")).to_have_text("1")
    page.click(f"a.hit >> text={archived}")
    expect(page.locator("#verified")).to_contain_text("Verified")
    expect(page.locator("#email iframe.mail")).to_have_attribute("sandbox", "")
    expect(page.locator("#events")).to_contain_text("sent")
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    data = Path(download.path()).read_bytes()
    with live.api() as api:
        entry = api.get(f"/v1/archive/{archived}").json()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"] and download.suggested_filename.endswith(
        ".eml"
    )
    page.click("header nav >> text=Audit log")
    expect(page.locator("#audit-verified")).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("download")


def test_marketer_is_refused(page: Page, live: LiveService, archived: str, signed_in: SignedIn) -> None:  # noqa: F811
    browser_sign_in(page, live, Role.MARKETER)
    expect(page.locator("header nav")).not_to_contain_text("Archive")
    response = page.goto(f"/ui/archive/{archived}")
    assert response is not None and response.status == 403
    client = signed_in(Role.MARKETER)
    for path in ("/ui/archive", f"/ui/archive/{archived}/original", "/ui/archive/export", "/ui/audit"):
        assert client.get(path).status_code == 403, path
