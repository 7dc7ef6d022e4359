"""The survey (`ccm.engagement.feedback`): an email's score link opens a page whose button answers, the
answer lands on the customer record and goes out as `feedback.received`; a scanner's fetch answers
nothing; a tampered link is a 404; a number texted back answers the newest survey SMS; NPS and CSAT
figures per template and campaign count each message's latest answer."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.communications.models import Message
from ccm.database import session_scope, utcnow
from ccm.engagement.models import Event, EventType
from ccm.webhooks.models import WebhookDelivery
from tests.ccm.campaigns.conftest import add_customer, create_campaign, messages_of, run_fan_out
from tests.ccm.communications.test_inbound_sms import text_in, twilio_service
from tests.ccm.conftest import Service, ServiceFactory, publish_reviewed, send
from tests.fixtures.sms_api import FakeTwilioApi

__all__ = ["twilio_service"]  # the Twilio-backed service of the inbound SMS tests

SURVEY_HTML = (
    "<p>How likely are you to recommend us?</p><p role='group' aria-label='0 to 10'>"
    "{% for s in survey.nps %}<a href='{{ s.url }}' aria-label='{{ s.score }} of 10'>{{ s.score }}</a>"
    "{% endfor %}</p><a href='https://example.com/shop'>Shop</a>"
)
SURVEY = {
    "key": "survey",
    "name": "After-sales survey",
    "category": "transactional",
    "parts": {
        "email": {"subject": "How did we do?", "html": SURVEY_HTML},
        "sms": {"text": "How did we do? Reply {{ survey.nps }}"},
    },
}


CSAT_PROMO = {
    "key": "csat-promo",
    "name": "Rate your visit",
    "category": "marketing",
    "parts": {
        "email": {
            "subject": "Rate your visit",
            "html": "<p>{% for s in survey.csat %}<a href='{{ s.url }}'>{{ s.score }}</a>{% endfor %}"
            " <a href='{{ unsubscribe_url }}'>Stop</a></p>",
        }
    },
}


def publish_survey(service: Service, key: str = "survey", template: dict[str, Any] = SURVEY) -> None:
    body = {**template, "key": key}
    response = service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    publish_reviewed(service, key, 1)


def survey_links(service: Service, message_id: str) -> dict[int, str]:
    """The score links of the sent email, by score, as paths on the service."""
    raw = (service.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(("html",))
    assert body is not None
    found = re.findall(r'href="http://ccm\.test(/f/[^"]+)"[^>]*>(\d+)</a>', body.get_content())
    return {int(score): path for path, score in found}


def emailed_survey(
    service: Service, customer: str = "c-1", key: str = "survey"
) -> tuple[str, dict[int, str]]:
    message_id = send(
        service, {"template": key, "customer_id": customer, "channels": ["email"]}, f"{key}-{customer}"
    )
    service.work()
    return message_id, survey_links(service, message_id)


def answer(service: Service, path: str, comment: str = "") -> Any:
    return service.client.post(path, data={"comment": comment})


def last_feedback(service: Service, customer: str = "c-1") -> Any:
    response = service.client.get(f"/v1/customers/{customer}", headers=service.headers())
    assert response.status_code == 200
    return response.json()["engagement"]["last_feedback"]


def feedback_events(service: Service) -> list[Event]:
    with session_scope(service.runtime.engine) as session:
        statement = select(Event).where(Event.type == EventType.FEEDBACK).order_by(col(Event.id))
        events = list(session.exec(statement).all())
        session.expunge_all()
        return events


def nps(service: Service, **query: Any) -> dict[str, Any]:
    response = service.client.get("/v1/feedback/nps", params=query, headers=service.headers())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def hooked(service_factory: ServiceFactory) -> Service:
    service = service_factory(webhook_allowed_hosts=["127.0.0.1"])
    add_customer(service, "c-1", locale="it")
    add_customer(service, "c-2")
    publish_survey(service)
    return service


def test_an_emailed_score_is_answered_on_the_page_and_lands_on_the_record(hooked: Service) -> None:
    service = hooked
    endpoint = {"url": "http://127.0.0.1:9/hook", "events": ["feedback.received"]}
    assert (
        service.client.post("/v1/webhook-endpoints", json=endpoint, headers=service.headers()).status_code
        == 201
    )
    message_id, links = emailed_survey(service)
    assert sorted(links) == list(range(11))  # one untracked, signed link per score

    page = service.client.get(links[9])
    assert page.status_code == 200 and "<strong>9</strong> su 10" in page.text  # in the customer's language
    assert 'method="post"' in page.text and 'name="comment"' in page.text
    assert last_feedback(service) is None  # showing the page records nothing

    done = answer(service, links[9], "Rapidi e gentili")
    assert done.status_code == 200 and "La tua risposta è stata registrata." in done.text
    recorded = last_feedback(service)
    assert (recorded["kind"], recorded["score"], recorded["comment"]) == ("nps", 9, "Rapidi e gentili")
    assert recorded["message_id"] == message_id
    [event] = feedback_events(service)
    assert event.detail["template"] == "survey" and event.detail["campaign_id"] is None
    with session_scope(service.runtime.engine) as session:
        [delivery] = session.exec(select(WebhookDelivery)).all()
        assert delivery.event_type == "feedback.received"
        assert delivery.payload["data"]["message_id"] == message_id
        assert delivery.payload["data"]["detail"]["score"] == 9


def test_a_later_answer_replaces_the_earlier_one_and_both_stay_on_the_timeline(hooked: Service) -> None:
    service = hooked
    _, links = emailed_survey(service)
    assert answer(service, links[3]).status_code == 200
    assert answer(service, links[10], "changed my mind").status_code == 200
    assert [e.detail["score"] for e in feedback_events(service)] == [3, 10]
    assert last_feedback(service)["score"] == 10
    figures = nps(service, template="survey")
    assert (figures["responses"], figures["promoters"], figures["detractors"], figures["nps"]) == (
        1,
        1,
        0,
        100.0,
    )


def test_a_scanner_fetching_the_links_answers_nothing(hooked: Service) -> None:
    service = hooked
    _, links = emailed_survey(service)
    scanner = {"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)"}
    for path in links.values():
        assert service.client.get(path, headers=scanner).status_code == 200
        assert service.client.head(path, headers=scanner).status_code in (200, 405)
    assert feedback_events(service) == []
    assert last_feedback(service) is None


def test_a_tampered_link_is_a_404_and_records_nothing(hooked: Service) -> None:
    service = hooked
    _, links = emailed_survey(service)
    path = links[0]
    forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert service.client.get(forged).status_code == 404
    assert answer(service, forged).status_code == 404
    assert service.client.get("/f/" + "x" * 40).status_code == 404
    assert feedback_events(service) == []


def test_a_comment_is_bounded(hooked: Service) -> None:
    service = hooked
    _, links = emailed_survey(service)
    response = answer(service, links[5], "x" * 1001)
    assert response.status_code == 422 and "comment" in response.text
    assert feedback_events(service) == []


def test_nps_and_csat_figures_per_template_and_campaign(hooked: Service) -> None:
    service = hooked
    for extra in ("c-3", "c-4"):
        add_customer(service, extra)
    publish_survey(service, "other")
    scores = {"c-1": 10, "c-2": 9, "c-3": 7, "c-4": 2}
    for customer, score in scores.items():
        _, links = emailed_survey(service, customer)
        assert answer(service, links[score]).status_code == 200
    _, links = emailed_survey(service, "c-1", "other")
    assert answer(service, links[0]).status_code == 200

    figures = nps(service, template="survey")
    counts = [figures[k] for k in ("responses", "promoters", "passives", "detractors", "nps")]
    assert counts == [4, 2, 1, 1, 25.0]  # 50% promoters - 25% detractors
    assert nps(service)["responses"] == 5 and nps(service)["nps"] == 0.0  # 2 promoters, 2 detractors of 5
    per_template = {g["key"]: g["nps"] for g in nps(service, by="template")["groups"]}
    assert per_template == {"other": -100.0, "survey": 25.0}
    assert nps(service, campaign=1)["responses"] == 0 and nps(service, campaign=1)["nps"] is None
    assert nps(service, **{"from": "2999-01-01T00:00:00"})["responses"] == 0
    bad = service.client.get("/v1/feedback/nps?by=customer", headers=service.headers())
    assert bad.status_code == 422


def test_csat_figures_per_campaign(hooked: Service) -> None:
    service = hooked
    publish_survey(service, "csat-promo", CSAT_PROMO)
    created = create_campaign(service, template="csat-promo")
    run_fan_out(service, created["id"])
    service.work()
    messages = messages_of(service, created["id"])
    assert len(messages) == 2
    for message, score in zip(messages, (4, 5), strict=True):
        links = survey_links(service, message.id)
        assert sorted(links) == [1, 2, 3, 4, 5]
        assert answer(service, links[score]).status_code == 200
    figures = nps(service, campaign=created["id"])
    assert (figures["csat_responses"], figures["csat_average"], figures["responses"]) == (2, 4.5, 0)
    assert figures["nps"] is None  # no NPS question was asked
    [group] = nps(service, by="campaign")["groups"]
    assert (group["key"], group["csat_average"]) == (created["id"], 4.5)


def sent_ago(service: Service, message_id: str, age: timedelta) -> None:
    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.sent_at = utcnow() - age


def test_sms_reply_answers_the_newest_survey_sent_to_the_number(
    twilio_service: Service, twilio_api: FakeTwilioApi
) -> None:
    service = twilio_service
    publish_survey(service)
    older = send(service, {"template": "survey", "customer_id": "giulia", "channels": ["sms"]}, "s-1")
    newer = send(service, {"template": "survey", "customer_id": "marco", "channels": ["sms"]}, "s-2")
    service.work()
    assert [r.form["Body"] for r in twilio_api.requests] == ["How did we do? Reply 0-10"] * 2
    sent_ago(service, older, timedelta(hours=2))
    sent_ago(service, newer, timedelta(hours=1))

    assert text_in(service, "8 tutto bene").status_code == 200
    [event] = feedback_events(service)
    assert event.message_id == newer
    assert (event.detail["score"], event.detail["comment"], event.detail["source"]) == (
        8,
        "tutto bene",
        "sms-reply",
    )
    assert last_feedback(service, "marco")["score"] == 8 and last_feedback(service, "giulia") is None

    assert text_in(service, "42").status_code == 200  # not a score of an NPS question
    assert text_in(service, "9", sender="+393471234599").status_code == 200  # no survey sent to that number
    assert len(feedback_events(service)) == 1

    sent_ago(service, newer, timedelta(days=8))  # past the week a survey waits for its answer
    assert text_in(service, "6").status_code == 200
    assert [(e.message_id, e.detail["score"]) for e in feedback_events(service)] == [(newer, 8), (older, 6)]
