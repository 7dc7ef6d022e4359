"""/docs and /redoc work offline: their pages name no other host, and Chromium renders them with every
request to another host refused."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

from tests.ccm.conftest import Service
from tests.ccm.web.conftest import LiveService

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>()]+""")
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_doc_pages_reference_no_other_host(service: Service, path: str) -> None:
    page = service.client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert ABSOLUTE_URL.findall(page.text) == []
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        if asset != "/openapi.json":
            fetched = service.client.get(asset)
            assert fetched.status_code == 200 and len(fetched.content) > 1000, asset


def test_swagger_ui_fetches_no_validator_badge(service: Service) -> None:
    assert '"validatorUrl": null' in service.client.get("/docs").text


def _offline(page: Page, live: LiveService) -> tuple[list[str], list[str]]:
    """Refuse every request that leaves the service's host; return the refused URLs and CSP complaints."""
    host = urlsplit(live.base_url).hostname
    refused: list[str] = []
    complaints: list[str] = []

    def route(request_route: Route) -> None:
        url = request_route.request.url
        if urlsplit(url).hostname == host or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            complaints.append(message.text)

    page.route("**/*", route)
    page.on("console", console)
    return refused, complaints


RENDER_MS = 30_000
"""Both viewers fetch and lay out the whole specification (some 150 operations) before showing any: seconds
on a busy machine, beyond `expect`'s default wait."""


@pytest.mark.browser
def test_swagger_ui_lists_the_operations_offline(page: Page, live: LiveService) -> None:
    refused, complaints = _offline(page, live)
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text=re.compile(r"^/v1/messages$")).first).to_be_visible(
        timeout=RENDER_MS
    )
    expect(page.locator(".opblock-summary-path", has_text="/v1/templates/{key}/preview")).to_be_visible()
    expect(page.locator(".validator, .errors-wrapper")).to_have_count(0)
    assert refused == [] and complaints == []


@pytest.mark.browser
def test_redoc_renders_the_operations_offline(page: Page, live: LiveService) -> None:
    refused, complaints = _offline(page, live)
    page.goto("/redoc#tag/messages/operation/send_batch_v1_messages_batch_post")
    # ReDoc lays out the whole specification (some 150 operations) before the pane shows: seconds on a busy CI
    expect(page.locator("h1").first).to_contain_text("ccm", timeout=RENDER_MS)
    expect(page.get_by_role("button", name="post /v1/messages:batch")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_role("menuitem", name="Send Batch")).to_be_visible()
    # ReDoc's sidebar always asks Redocly's CDN for its logo; the page's own policy refuses it.
    assert set(refused) <= {REDOCLY_LOGO}
    assert not refused or any(REDOCLY_LOGO in c and "img-src" in c for c in complaints)
    assert all(REDOCLY_LOGO in c for c in complaints)
