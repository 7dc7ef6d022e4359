"""In Chromium: a customer opens an NPS link from a sent email, answers with a comment, and the score shows
on their record in the UI at once."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import browser_sign_in, send_and_wait

pytestmark = pytest.mark.browser
SURVEY = {
    "key": "nps-check",
    "name": "NPS check",
    "category": "transactional",
    "parts": {
        "email": {
            "subject": "How did we do?",
            "html": "<p>Would you recommend us?</p><p>{% for s in survey.nps %}"
            "<a href='{{ s.url }}' aria-label='{{ s.score }} of 10'>{{ s.score }}</a> {% endfor %}</p>",
        }
    },
}


def publish_survey(live: LiveService) -> None:
    """Create the template as a marketer; the admin key (another identity) approves it."""
    path = "/v1/templates/nps-check/versions/1"
    with live.api(Role.MARKETER) as marketer, live.api(Role.ADMIN) as reviewer:
        assert marketer.post("/v1/templates", json=SURVEY).status_code == 201
        for client, step in ((marketer, "submit"), (reviewer, "approve"), (marketer, "publish")):
            response = client.post(f"{path}/{step}")
            assert response.status_code == 200, response.text


def score_link(live: LiveService, message_id: str, score: int) -> str:
    raw = (live.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(("html",))
    assert body is not None
    links = dict(
        (int(s), url) for url, s in re.findall(r'href="([^"]+/f/[^"]+)"[^>]*>(\d+)</a>', body.get_content())
    )
    link: str = links[score]
    return link


def test_a_customer_answers_an_nps_link_and_the_score_shows_on_their_record(
    page: Page, live: LiveService
) -> None:
    publish_survey(live)
    message_id = send_and_wait(live, {"template": "nps-check", "customer_id": "c-1", "channels": ["email"]})
    page.goto(score_link(live, message_id, 9))
    expect(page.locator("p strong")).to_have_text("9")
    page.fill("textarea[name=comment]", "Quick delivery")
    page.click("button[type=submit]")
    expect(page.locator("[role=status]")).to_be_visible()

    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/customers/c-1")
    expect(page.locator("dd.feedback")).to_contain_text("NPS 9")
    expect(page.locator("dd.feedback")).to_contain_text("Quick delivery")
