"""The preference centre (`/p/{token}`): reached from the signed link in a marketing email and from the
unsubscribe page, worded in the customer's language, it turns topics and channels on and off or leaves all
marketing; a forged link is a 404. The last test walks it in Chromium from an email's link."""

from __future__ import annotations

import email
import re
import time
import uuid
from email import policy
from typing import Any

from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_public import html_of, local, sent_welcome

TOPICS = [
    {"key": "news", "name": "Newsletter", "channels": ["email", "sms"]},
    {"key": "offers", "name": "Offerte speciali", "channels": ["email"]},
]
LINK = re.compile(r'href="([^"]*/p/[^"]+)"')


def add_topics(service: Service) -> None:
    for topic in TOPICS:
        response = service.client.post("/v1/topics", json=topic, headers=service.headers(Role.MARKETER))
        assert response.status_code == 201, response.text


def consent(service: Service) -> dict[str, Any]:
    response = service.client.get("/v1/customers/c-1/consent", headers=service.headers())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def preferences_link(service: Service) -> str:
    _, message = sent_welcome(service)
    match = LINK.search(html_of(message))
    assert match, "the marketing email links to the preference centre"
    return local(match.group(1).replace("&amp;", "&"))


def test_the_page_shows_channels_and_topics_in_the_customers_language(
    service: Service, customer: dict[str, Any]
) -> None:
    add_topics(service)
    page = service.client.get(preferences_link(service))
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store, private"
    assert "Le tue preferenze" in page.text  # the customer is Italian
    assert "<strong>giulia.rossi@example.com</strong>" in page.text and "+393471234501" in page.text
    boxes = re.findall(r'value="((?:channel|topic):[^"]+)"( checked)?', page.text)
    assert boxes == [
        ("channel:email", " checked"),
        ("topic:news:email", " checked"),
        ("topic:offers:email", " checked"),
        ("channel:sms", " checked"),
        ("topic:news:sms", " checked"),
    ]


def test_leaving_one_topic_records_only_that_change(service: Service, customer: dict[str, Any]) -> None:
    add_topics(service)
    link = preferences_link(service)
    kept = ["channel:email", "topic:news:email", "channel:sms", "topic:news:sms"]
    saved = service.client.post(link, data={"choice": kept, "action": "save"})
    assert saved.status_code == 200 and "Le tue preferenze sono salvate." in saved.text
    assert 'value="topic:offers:email">' in saved.text  # now unticked
    state = consent(service)
    assert [(h["channel"], h["topic"], h["state"], h["source"]) for h in state["history"]] == [
        ("email", "offers", "revoked", "preference-centre")
    ]
    assert state["unsubscribed_channels"] == []
    service.client.post(link, data={"choice": [*kept, "topic:offers:email"], "action": "save"})
    assert consent(service)["history"][0]["state"] == "granted"  # back in, from the same link


def test_unsubscribe_from_all_leaves_every_channel(service: Service, customer: dict[str, Any]) -> None:
    add_topics(service)
    link = preferences_link(service)
    response = service.client.post(link, data={"choice": ["channel:email"], "action": "all"})
    assert response.status_code == 200
    assert consent(service)["unsubscribed_channels"] == ["email", "sms"]
    refused = service.send(
        {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://x.example"}}
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsubscribed"
    timeline = service.client.get("/v1/customers/c-1/timeline", headers=service.headers()).json()["events"]
    assert sum(e["type"] == "unsubscribed" for e in timeline) == 2


def test_the_unsubscribe_page_links_to_the_preference_centre(
    service: Service, customer: dict[str, Any]
) -> None:
    _, message = sent_welcome(service)
    unsubscribe = service.client.get(local(str(message["List-Unsubscribe"]).strip().strip("<>")))
    match = LINK.search(unsubscribe.text)
    assert match and "Scegli che cosa ti inviamo" in unsubscribe.text
    assert service.client.get(local(match.group(1))).status_code == 200


def test_a_forged_or_foreign_token_is_a_404_and_changes_nothing(
    service: Service, customer: dict[str, Any]
) -> None:
    link = preferences_link(service)
    _, message = sent_welcome(service)
    unsubscribe_token = str(message["List-Unsubscribe"]).strip().strip("<>").rsplit("/", 1)[1]
    for path in (link[:-2] + "xx", f"/p/{unsubscribe_token}", "/p/not-a-token-at-all"):
        assert service.client.get(path).status_code == 404, path
        assert service.client.post(path, data={"action": "all"}).status_code == 404, path
    assert consent(service)["unsubscribed_channels"] == []


def _sent_email_link(live: LiveService, external_id: str) -> str:
    """Send the welcome email through the API, wait for the outbox, and return its preferences link."""
    with live.api() as api:
        body = {"template": "welcome", "customer_id": external_id, "data": {"cta_url": "https://x.example"}}
        accepted = api.post("/v1/messages", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert accepted.status_code == 202, accepted.text
        message_id = accepted.json()["messages"][0]["id"]
        eml = live.settings.outbox_dir / f"{message_id}.eml"
        deadline = time.monotonic() + 15
        while not eml.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    parsed = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    match = LINK.search(html_of(parsed))
    assert match
    return match.group(1)


def test_a_customer_leaves_one_topic_from_the_emails_link(page: Page, live: LiveService) -> None:
    suffix = uuid.uuid4().hex[:6]
    with live.api(Role.MARKETER) as marketer:
        for key, name in ((f"news-{suffix}", "Newsletter"), (f"offers-{suffix}", "Angebote")):
            topic = {"key": key, "name": name, "channels": ["email"]}
            assert marketer.post("/v1/topics", json=topic).status_code == 201
    with live.api() as api:
        person = {"email": f"lena-{suffix}@example.com", "locale": "de", "attributes": {"first_name": "Lena"}}
        assert api.put(f"/v1/customers/lena-{suffix}", json=person).status_code == 201

    page.goto(_sent_email_link(live, f"lena-{suffix}"))
    expect(page.get_by_role("heading", name="Ihre Einstellungen")).to_be_visible()
    offers = page.get_by_role("checkbox", name="Angebote")
    expect(offers).to_be_checked()
    offers.uncheck()
    page.get_by_role("button", name="Auswahl speichern").click()
    expect(page.get_by_role("status")).to_have_text("Ihre Einstellungen sind gespeichert.")
    expect(page.get_by_role("checkbox", name="Angebote")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Newsletter")).to_be_checked()

    with live.api() as api:
        state = api.get(f"/v1/customers/lena-{suffix}/consent").json()
    topics = {t["topic"]: t["state"] for t in state["topics"] if t["topic"].endswith(suffix)}
    assert topics == {f"news-{suffix}": "granted", f"offers-{suffix}": "revoked"}
    assert state["history"][0]["source"] == "preference-centre"
