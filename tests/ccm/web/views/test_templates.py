"""The template page's previews: no remote images unless this view asks (`?remote_images=1`), shown in the
content security policy, a link that switches, and Chromium obeying it; superseded drafts offer no publish."""

from __future__ import annotations

import re
import socket
import uuid
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import LiveService, csrf_of, sign_in
from tests.ccm.web.test_browser import browser_sign_in


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


REMOTE_IMAGE = f"https://127.0.0.1:{_closed_port()}/logo.png"
"""Remote to the page (another scheme and port), yet on loopback: a fetch of it leaves no machine."""


def img_src(response: Any) -> str:
    policy = response.headers["content-security-policy"]
    found = re.search(r"img-src ([^;]+)", policy)
    assert found, policy
    return found.group(1)


def test_previews_load_no_remote_images_unless_the_view_asks(
    service: Service, customer: dict[str, Any]
) -> None:
    client = service.client
    sign_in(client, service.keys[Role.MARKETER])

    blocked = client.get("/ui/templates/welcome")
    assert blocked.status_code == 200
    assert img_src(blocked) == "'self' data:"
    assert 'href="/ui/templates/welcome?version=1&amp;remote_images=1">Load remote images</a>' in blocked.text

    allowed = client.get("/ui/templates/welcome", params={"remote_images": "1", "customer_id": "c-1"})
    assert allowed.status_code == 200
    assert img_src(allowed) == "'self' data: https:"
    assert (
        'href="/ui/templates/welcome?version=1&amp;customer_id=c-1">Block remote images</a>' in allowed.text
    )
    assert '<input type="hidden" name="remote_images" value="1">' in allowed.text  # kept by "Preview"

    assert img_src(client.get("/ui/templates/welcome", params={"remote_images": "0"})) == "'self' data:"
    assert client.get("/ui/templates/welcome", params={"remote_images": "perhaps"}).status_code == 400


def test_drafts_older_than_the_live_version_offer_no_publish_button(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    body = {"parts": {"sms": {"text": "Hi {{ customer.first_name }}"}}}
    for _ in range(2):
        assert (
            service.client.post("/v1/templates/otp/versions", json=body, headers=headers).status_code == 201
        )
    assert service.client.post("/v1/templates/otp/versions/3/publish", headers=headers).status_code == 200
    client = service.client
    sign_in(client, service.keys[Role.MARKETER])

    page = client.get("/ui/templates/otp").text

    assert "Publish v2" not in page and "older than the published v3" in page
    refused = client.post("/ui/templates/otp/versions/2/publish", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409 and "older than the published version 3" in refused.text


@pytest.fixture(scope="module")
def remote_image_template(live: LiveService) -> str:
    key = f"remote-{uuid.uuid4().hex[:6]}"
    template = {
        "key": key,
        "name": "Remote image",
        "category": "transactional",
        "parts": {"email": {"subject": "Hi", "html": f'<p>Hello</p><img src="{REMOTE_IMAGE}" alt="logo">'}},
    }
    with live.api(Role.MARKETER) as api:
        assert api.post("/v1/templates", json=template).status_code == 201
    return key


def _watch_images(page: Page) -> tuple[list[str], list[str]]:
    """The policy's refusals of the remote image, and the browser's attempts to fetch it.

    The image's address is a closed loopback port, so an attempt fails at once and leaves no machine.
    (Requests from a sandboxed srcdoc frame bypass Playwright's routing, hence the console.)
    """
    refusals: list[str] = []
    attempts: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if REMOTE_IMAGE in message.text and "Content Security Policy" in message.text:
            refusals.append(message.text)
        elif message.location.get("url") == REMOTE_IMAGE:
            attempts.append(message.text)

    page.on("console", console)
    return refusals, attempts


@pytest.mark.browser
def test_chromium_blocks_remote_images_until_the_link_is_followed(
    page: Page, live: LiveService, remote_image_template: str
) -> None:
    browser_sign_in(page, live, Role.MARKETER)
    refusals, attempts = _watch_images(page)

    page.goto(f"/ui/templates/{remote_image_template}")
    expect(page.frame_locator("#preview-email iframe").locator("body")).to_contain_text("Hello")
    page.wait_for_timeout(300)
    assert refusals and attempts == []

    refusals.clear()
    page.click("#remote-images >> text=Load remote images")
    expect(page).to_have_url(re.compile(r"remote_images=1"))
    expect(page.frame_locator("#preview-email iframe").locator("body")).to_contain_text("Hello")
    expect(page.locator("#remote-images")).to_contain_text("Block remote images")
    page.wait_for_timeout(300)
    assert refusals == [] and attempts  # the policy let the browser try
