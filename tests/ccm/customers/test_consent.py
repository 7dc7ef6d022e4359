"""Topics and consent: the API records each change with its source and keeps the history; the send rules
refuse a marketing send to a customer who left its topic (`no_consent`), their channel (`unsubscribed`) or
has not confirmed yet (`consent_pending`) alike on single, batch and campaign sends; transactional messages
ignore all of it."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.customers.consent import set_topic
from ccm.customers.consent_log import CHANNEL, ConsentState
from ccm.customers.service import get_customer
from ccm.database import session_scope
from tests.ccm.campaigns.conftest import PROMO, add_customer, campaign, create_campaign, promo, run_fan_out
from tests.ccm.conftest import INVOICE_DATA, Service, ServiceFactory, publish_reviewed

__all__ = ["promo"]  # the marketing template fixture of the campaign tests

NEWS = {"key": "news", "name": "Newsletter", "description": "Monthly news", "channels": ["email", "sms"]}
OFFERS = {"key": "offers", "name": "Offers", "channels": ["email"]}


@pytest.fixture
def news_promo(service: Service) -> str:
    """Topics `news` and `offers`, and a published marketing template about `news`."""
    for topic in (NEWS, OFFERS):
        response = service.client.post("/v1/topics", json=topic, headers=service.headers(Role.MARKETER))
        assert response.status_code == 201, response.text
    template = {**PROMO, "key": "news-promo", "topic": "news"}
    response = service.client.post("/v1/templates", json=template, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    assert response.json()["topic"] == "news"
    publish_reviewed(service, "news-promo", 1)
    return "news-promo"


def put_consent(service: Service, external_id: str, *changes: dict[str, Any], source: str = "crm") -> Any:
    body = {"consents": list(changes), "source": source}
    return service.client.put(f"/v1/customers/{external_id}/consent", json=body, headers=service.headers())


def send_promo(service: Service, external_id: str, template: str = "news-promo") -> Any:
    body = {
        "template": template,
        "customer_id": external_id,
        "data": {"offer": "10% off"},
        "channels": ["email"],
    }
    return service.send(body)


def test_topics_are_managed_by_marketers_and_read_by_every_sender(service: Service) -> None:
    marketer, sender = service.headers(Role.MARKETER), service.headers(Role.SENDER)
    assert service.client.post("/v1/topics", json=NEWS, headers=sender).status_code == 403
    assert service.client.post("/v1/topics", json=NEWS, headers=marketer).status_code == 201
    assert service.client.post("/v1/topics", json=NEWS, headers=marketer).json()["error"]["code"] == (
        "topic_exists"
    )
    bad = service.client.post("/v1/topics", json={**OFFERS, "channels": ["pdf"]}, headers=marketer)
    assert bad.status_code == 422 and "pdf" in bad.text
    changed = {"name": "News", "channels": ["email"]}
    assert service.client.put("/v1/topics/news", json=changed, headers=marketer).json()["channels"] == [
        "email"
    ]
    listed = service.client.get("/v1/topics", headers=sender).json()["topics"]
    assert [(t["key"], t["name"]) for t in listed] == [("news", "News")]
    assert service.client.delete("/v1/topics/news", headers=marketer).status_code == 204
    assert service.client.get("/v1/topics/news", headers=sender).status_code == 404


def test_a_template_names_an_existing_topic_of_marketing_only(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    missing = service.client.post("/v1/templates", json={**PROMO, "topic": "nope"}, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "topic"
    service.client.post("/v1/topics", json=NEWS, headers=headers)
    otp = {**PROMO, "key": "otp2", "category": "transactional", "topic": "news"}
    refused = service.client.post("/v1/templates", json=otp, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_topic"


def test_consent_api_keeps_state_and_history(service: Service, news_promo: str) -> None:
    add_customer(service, "ada", phone="+393471234501")
    before = service.client.get("/v1/customers/ada/consent", headers=service.headers()).json()
    assert {(t["topic"], t["channel"], t["state"], t["recorded"]) for t in before["topics"]} == {
        ("news", "email", "granted", False),
        ("news", "sms", "granted", False),
        ("offers", "email", "granted", False),
    }
    assert before["history"] == []
    response = put_consent(
        service,
        "ada",
        {"channel": "email", "topic": "news", "state": "revoked"},
        {"channel": "sms", "state": "revoked"},
    )
    assert response.status_code == 200, response.text
    state = response.json()
    assert {(t["topic"], t["channel"]): t["state"] for t in state["topics"]}[("news", "email")] == "revoked"
    assert state["unsubscribed_channels"] == ["sms"]
    assert {c["channel"]: c["state"] for c in state["channels"]} == {"email": "granted", "sms": "revoked"}
    assert [(h["channel"], h["topic"], h["state"], h["source"]) for h in state["history"]] == [
        ("sms", None, "revoked", "crm"),
        ("email", "news", "revoked", "crm"),
    ]
    again = put_consent(service, "ada", {"channel": "email", "topic": "news", "state": "revoked"}).json()
    assert len(again["history"]) == 2  # nothing changed, nothing recorded
    customer = service.client.get("/v1/customers/ada", headers=service.headers()).json()
    assert customer["consent"]["unsubscribed_channels"] == ["sms"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"channel": "email", "topic": "ghost", "state": "revoked"}, 404, "topic_not_found"),
        ({"channel": "sms", "topic": "offers", "state": "revoked"}, 422, "topic_not_on_channel"),
        ({"channel": "pdf", "state": "revoked"}, 422, None),
        ({"channel": "email", "state": "maybe"}, 422, None),
    ],
)
def test_bad_consent_changes_are_refused_by_name(
    service: Service, news_promo: str, change: dict[str, Any], status: int, code: str | None
) -> None:
    add_customer(service, "ada")
    response = put_consent(service, "ada", change)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


def test_single_sends_are_refused_with_the_reason(service: Service, news_promo: str) -> None:
    for name in ("left-topic", "left-channel", "kept"):
        add_customer(service, name)
    put_consent(service, "left-topic", {"channel": "email", "topic": "news", "state": "revoked"})
    put_consent(service, "left-topic", {"channel": "email", "topic": "offers", "state": "granted"})
    put_consent(service, "left-channel", {"channel": "email", "state": "revoked"})
    put_consent(service, "kept", {"channel": "email", "topic": "offers", "state": "revoked"})

    refused = send_promo(service, "left-topic")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_consent"
    assert "news" in refused.json()["error"]["message"]
    assert send_promo(service, "left-channel").json()["error"]["code"] == "unsubscribed"
    assert send_promo(service, "kept").status_code == 202  # another topic's opt-out does not matter
    assert service.client.post("/v1/templates", json=PROMO, headers=service.headers(Role.MARKETER)).is_success
    publish_reviewed(service, "promo", 1)
    assert send_promo(service, "left-topic", template="promo").status_code == 202  # a template without topic


def test_transactional_messages_ignore_marketing_opt_outs(service: Service, news_promo: str) -> None:
    add_customer(service, "c-1", attributes={"first_name": "Carla", "last_name": "Uno"})
    put_consent(service, "c-1", {"channel": "email", "topic": "news", "state": "revoked"})
    put_consent(service, "c-1", {"channel": "email", "state": "revoked"})
    with session_scope(service.runtime.engine) as session:
        customer = get_customer(session, "c-1")
        set_topic(session, customer, "email", CHANNEL, ConsentState.PENDING, source="test")
    body = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]}
    assert service.send(body).status_code == 202


def test_unconfirmed_customers_are_refused_as_pending(service: Service, news_promo: str) -> None:
    add_customer(service, "new")
    with session_scope(service.runtime.engine) as session:
        customer = get_customer(session, "new")
        set_topic(session, customer, "email", CHANNEL, ConsentState.PENDING, source="signup")
    assert send_promo(service, "new").json()["error"]["code"] == "consent_pending"
    put_consent(service, "new", {"channel": "email", "state": "granted"}, source="confirmation")
    assert send_promo(service, "new").status_code == 202


def test_batch_items_carry_each_reason(service: Service, news_promo: str) -> None:
    for name in ("left-topic", "left-channel", "kept"):
        add_customer(service, name)
    put_consent(service, "left-topic", {"channel": "email", "topic": "news", "state": "revoked"})
    put_consent(service, "left-channel", {"channel": "email", "state": "revoked"})
    items = [
        {
            "template": news_promo,
            "customer_id": name,
            "data": {"offer": "x"},
            "channels": ["email"],
            "idempotency_key": f"k-{name}",
        }
        for name in ("left-topic", "left-channel", "kept")
    ]
    response = service.client.post("/v1/messages:batch", json={"messages": items}, headers=service.headers())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [422, 422, 202]
    assert [r["error"]["code"] for r in results[:2]] == ["no_consent", "unsubscribed"]


def test_campaigns_skip_and_count_each_reason(service: Service, news_promo: str) -> None:
    for number in range(6):
        add_customer(service, f"c-{number}", phone=f"+3934712345{10 + number}")
    put_consent(service, "c-0", {"channel": "email", "topic": "news", "state": "revoked"})
    put_consent(service, "c-1", {"channel": "sms", "topic": "news", "state": "revoked"})
    put_consent(service, "c-2", {"channel": "email", "state": "revoked"})
    with session_scope(service.runtime.engine) as session:
        set_topic(session, get_customer(session, "c-3"), "email", CHANNEL, ConsentState.PENDING, source="t")
    created = create_campaign(service, template=news_promo, channels=["email", "sms"])
    run_fan_out(service, created["id"])
    progress = campaign(service, created["id"])["progress"]
    assert progress["skipped"] == {"no_consent": 2, "unsubscribed": 1, "consent_pending": 1}
    assert progress["queued"] == 6 * 2 - 4


CONFIRM_LINK = re.compile(r'href="http://ccm\.test(/c/[^"]+)"')


def test_double_opt_in_holds_marketing_email_until_the_link_is_followed(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory(double_opt_in_email=True)
    add_customer(service, "new", phone="+393471234501", locale="de")
    welcome = {"template": "welcome", "customer_id": "new", "data": {"cta_url": "https://x.example"}}
    refused = service.send({**welcome, "channels": ["email"]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "consent_pending"
    state = service.client.get("/v1/customers/new/consent", headers=service.headers()).json()
    assert {c["channel"]: c["state"] for c in state["channels"]} == {"email": "pending", "sms": "granted"}

    queued = service.client.post("/v1/customers/new/consent/confirmation", headers=service.headers())
    assert queued.status_code == 202, queued.text
    service.work()
    message_id = queued.json()["messages"][0]["id"]
    raw = (service.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(sent, EmailMessage)
    assert sent["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"  # in the customer's language
    html_part = sent.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    body = html_part.get_content()
    match = CONFIRM_LINK.search(body)
    assert match, body
    link = match.group(1)

    page = service.client.get(link)  # what a link scanner does: nothing is confirmed
    assert page.status_code == 200 and "Ja, bestätigen" in page.text
    assert service.send({**welcome, "channels": ["email"]}).json()["error"]["code"] == "consent_pending"
    assert service.client.post(link).status_code == 200
    assert service.send({**welcome, "channels": ["email"]}).status_code == 202
    history = service.client.get("/v1/customers/new/consent", headers=service.headers()).json()["history"]
    assert [(h["channel"], h["state"], h["source"]) for h in history] == [
        ("email", "granted", "double-opt-in")
    ]
    again = service.client.post("/v1/customers/new/consent/confirmation", headers=service.headers())
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_confirmed"
    assert service.client.get(link[:-2] + "xx").status_code == 404


def test_double_opt_in_skips_unconfirmed_campaign_recipients(
    service_factory: ServiceFactory, promo: str
) -> None:
    service = service_factory(double_opt_in_email=True)
    for number in range(3):
        add_customer(service, f"d-{number}", phone=f"+3934712345{20 + number}")
    with session_scope(service.runtime.engine) as session:
        set_topic(session, get_customer(session, "d-0"), "email", CHANNEL, ConsentState.GRANTED, source="t")
    created = create_campaign(service, channels=["email", "sms"])
    run_fan_out(service, created["id"])
    progress = campaign(service, created["id"])["progress"]
    assert progress["skipped"] == {"consent_pending": 2}  # SMS is not held by email's double opt-in
    assert progress["queued"] == 1 + 3
