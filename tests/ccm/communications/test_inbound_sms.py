"""Inbound SMS: a signed STOP opts every customer with the number out of marketing SMS and is answered
with one transactional SMS in the customer's language, queued, archived and sent through Twilio like any
other message; START opts back in; HELP answers; a forged request is refused."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.communications.sms_keywords import Keyword, keyword_of
from delivery import compute_twilio_signature
from tests.ccm.campaigns.conftest import add_customer, promo
from tests.ccm.conftest import Service, ServiceFactory
from tests.fixtures.sms_api import FakeTwilioApi

URL = "http://ccm.test/webhooks/twilio/inbound"
PHONE = "+393471234501"
__all__ = ["promo"]  # the marketing template fixture of the campaign tests


@pytest.fixture
def twilio_service(service_factory: ServiceFactory, twilio_api: FakeTwilioApi) -> Service:
    service = service_factory(
        sms_provider="twilio",
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=twilio_api.auth_token,
        twilio_from="+15005550006",
        twilio_base_url=twilio_api.base_url,
    )
    add_customer(service, "giulia", phone=PHONE, locale="it")
    add_customer(service, "marco", phone=PHONE, locale="it")  # a shared family phone
    add_customer(service, "other", phone="+393471234599")
    return service


def text_in(service: Service, body: str, *, sender: str = PHONE, signature: str | None = None) -> Any:
    form = {"MessageSid": "SM" + "1" * 32, "From": sender, "To": "+15005550006", "Body": body}
    token = service.settings.twilio_auth_token
    assert token is not None
    signed = signature if signature is not None else compute_twilio_signature(URL, form, token)
    return service.client.post("/webhooks/twilio/inbound", data=form, headers={"X-Twilio-Signature": signed})


def unsubscribed(service: Service, external_id: str) -> list[str]:
    customer = service.client.get(f"/v1/customers/{external_id}", headers=service.headers()).json()
    channels: list[str] = customer["consent"]["unsubscribed_channels"]
    return channels


def replies(service: Service) -> list[dict[str, Any]]:
    page = service.client.get("/v1/messages?template=sms-replies", headers=service.headers()).json()
    messages: list[dict[str, Any]] = page["items"]
    return messages


def test_stop_opts_the_number_out_and_one_reply_is_sent_and_archived(
    twilio_service: Service, twilio_api: FakeTwilioApi
) -> None:
    service = twilio_service
    answer = text_in(service, " stop ")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert unsubscribed(service, "giulia") == ["sms"] and unsubscribed(service, "marco") == ["sms"]
    assert unsubscribed(service, "other") == []
    [reply] = replies(service)
    assert reply["channel"] == "sms" and reply["recipient"] == PHONE
    assert service.message(reply["id"])["customer_id"] == "giulia"  # one answer, to the first customer
    service.work()
    archived = service.client.get(f"/v1/archive/{reply['id']}", headers=service.headers())
    assert archived.status_code == 200, archived.text
    [sent] = twilio_api.requests
    assert sent.form["To"] == PHONE
    assert "Non riceverai più SMS promozionali" in sent.form["Body"]  # the customer's language
    history = service.client.get("/v1/customers/marco/consent", headers=service.headers()).json()["history"]
    assert [(h["channel"], h["state"], h["source"]) for h in history] == [("sms", "revoked", "sms-keyword")]


def test_marketing_sms_is_refused_after_stop_and_allowed_after_start(
    twilio_service: Service, promo: str
) -> None:
    service = twilio_service
    body = {"template": promo, "customer_id": "marco", "channels": ["sms"], "data": {"offer": "10% off"}}
    assert text_in(service, "ANNULLA").status_code == 200
    refused = service.send(body)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsubscribed"
    assert text_in(service, "Start").status_code == 200
    assert unsubscribed(service, "marco") == []
    assert service.send(body).status_code == 202
    assert len(replies(service)) == 2  # one answer per keyword


def test_help_answers_without_changing_consent(twilio_service: Service, twilio_api: FakeTwilioApi) -> None:
    service = twilio_service
    assert text_in(service, "HELP", sender="+393471234599").status_code == 200
    assert unsubscribed(service, "other") == []
    service.work()
    [sent] = twilio_api.requests
    assert sent.form["To"] == "+393471234599" and "Reply STOP" in sent.form["Body"]


def test_other_texts_and_unknown_numbers_change_nothing(twilio_service: Service) -> None:
    service = twilio_service
    assert text_in(service, "stop it please").status_code == 200
    assert text_in(service, "STOP", sender="+393471234588").status_code == 200
    assert unsubscribed(service, "giulia") == [] and replies(service) == []


def test_a_forged_or_unsigned_request_is_refused(twilio_service: Service) -> None:
    service = twilio_service
    assert text_in(service, "STOP", signature="AAAA").status_code == 403
    assert text_in(service, "STOP", signature="").status_code == 403
    assert unsubscribed(service, "giulia") == [] and replies(service) == []


def test_without_twilio_the_webhook_is_not_there(service: Service) -> None:
    response = service.client.post("/webhooks/twilio/inbound", data={"Body": "STOP"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOPALL", Keyword.STOP),
        ("unsubscribe", Keyword.STOP),
        ("Cancel", Keyword.STOP),
        ("END", Keyword.STOP),
        ("quit", Keyword.STOP),
        ("Stopp", Keyword.STOP),
        ("ABMELDEN", Keyword.STOP),
        ("basta!", Keyword.STOP),
        ("UNSTOP", Keyword.START),
        ("anmelden", Keyword.START),
        ("aiuto", Keyword.HELP),
        ("HILFE", Keyword.HELP),
        ("stop now", None),
        ("", None),
    ],
)
def test_keywords_in_three_languages(body: str, keyword: Keyword | None) -> None:
    assert keyword_of(body) == keyword
