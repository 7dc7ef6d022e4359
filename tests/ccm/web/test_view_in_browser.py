"""The "view in browser" page (`ccm.web.web_version`): the `view_in_browser_url` of a sent email shows the
archived email as the customer received it, sandboxed with no script, records no open, is a plain 404 for a
forged link and 410 once the customer is erased."""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.engagement.tokens import TokenPurpose
from tests.ccm.conftest import Service, publish_reviewed

NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {
        "email": {
            "subject": "Your notice",
            "html": (
                '<html><body><p><a href="{{ view_in_browser_url }}">View in browser</a></p>'
                '<p>Dear {{ customer.first_name }}, <a href="https://example.com/terms">our terms</a>.</p>'
                "</body></html>"
            ),
        }
    },
    "sample_data": {"customer": {"first_name": "Ada"}},
}
VIEW_LINK = re.compile(r'href="http://ccm\.test(/v/[^"]+)"')


@pytest.fixture
def notice(service: Service, customer: dict[str, Any]) -> tuple[str, str]:
    """A notice sent to the customer: its message id and the HTML part of the email as it left."""
    created = service.client.post("/v1/templates", json=NOTICE, headers=service.headers(Role.MARKETER))
    assert created.status_code == 201, created.text
    publish_reviewed(service, "notice", 1)
    response = service.send({"template": "notice", "customer_id": "c-1", "data": {}})
    assert response.status_code == 202, response.text
    message_id: str = response.json()["messages"][0]["id"]
    service.work()
    raw = (service.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(("html",))
    assert body is not None
    return message_id, str(body.get_content())


def view_path(html: str) -> str:
    [path] = VIEW_LINK.findall(html)
    return str(path)


def opens(service: Service) -> list[dict[str, Any]]:
    response = service.client.get("/v1/customers/c-1/timeline", headers=service.headers())
    assert response.status_code == 200, response.text
    return [event for event in response.json()["events"] if event["type"] == "opened"]


def test_the_page_shows_the_archived_email_as_received_without_its_open_pixel(
    service: Service, notice: tuple[str, str]
) -> None:
    _, sent_html = notice
    assert "/t/o/" in sent_html and 'href="http://ccm.test/t/c/' in sent_html  # tracked as usual

    page = service.client.get(view_path(sent_html))

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Dear Giulia" in page.text and "View in browser" in page.text
    pixel = re.search(r'<img src="http://ccm\.test/t/o/[^"]*"[^>]*>', sent_html)
    assert pixel is not None
    assert page.text == sent_html.replace(pixel.group(0), "")  # byte for byte, less the pixel


def test_the_page_is_sandboxed_without_scripts_and_never_cached(
    service: Service, notice: tuple[str, str]
) -> None:
    page = service.client.get(view_path(notice[1]))

    assert page.headers["content-security-policy"] == "sandbox; script-src 'none'"
    assert page.headers["cache-control"] == "no-store, private"
    assert page.headers["x-robots-tag"] == "noindex"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_viewing_records_no_open_and_is_audited(service: Service, notice: tuple[str, str]) -> None:
    message_id, sent_html = notice
    for _ in range(2):
        assert service.client.get(view_path(sent_html)).status_code == 200

    assert opens(service) == []
    record = service.client.get("/v1/customers/c-1", headers=service.headers()).json()
    assert record["engagement"]["opened"] == 0
    audit = service.client.get("/v1/audit?action=web_version", headers=service.headers(Role.COMPLIANCE))
    assert audit.status_code == 200, audit.text
    entries = [entry for entry in audit.json()["items"] if message_id in entry["message_ids"]]
    assert len(entries) == 2 and {entry["actor"] for entry in entries} == {"customer-web-version"}


def test_a_forged_or_foreign_token_is_a_plain_404(service: Service, notice: tuple[str, str]) -> None:
    message_id, sent_html = notice
    signed, _, tag = view_path(sent_html).removeprefix("/v/").rpartition(".")
    altered = tag[:-1] + ("x" if tag[-1] != "x" else "y")
    click_token = service.runtime.tokens.sign(TokenPurpose.CLICK, {"m": message_id})
    unknown = service.runtime.tokens.sign(TokenPurpose.WEB_VERSION, {"m": "no-such-message"})
    for path in (f"/v/{signed}.{altered}", f"/v/{click_token}", f"/v/{unknown}", "/v/not-a-token-at-all"):
        response = service.client.get(path)
        assert response.status_code == 404, path
        assert "Dear Giulia" not in response.text


def test_after_erasure_the_page_is_410_and_shows_nothing_of_the_email(
    service: Service, notice: tuple[str, str]
) -> None:
    path = view_path(notice[1])
    erased = service.client.post("/v1/customers/c-1/erase", headers=service.headers())
    assert erased.status_code == 200, erased.text

    response = service.client.get(path, headers={"Accept": "text/html"})

    assert response.status_code == 410
    assert "Dear Giulia" not in response.text and "View in browser" not in response.text
    assert response.headers["cache-control"] == "no-store, private"
