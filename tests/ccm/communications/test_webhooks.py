"""Inbound provider events: SES bounces and complaints via signed SNS notifications (refused until the
SNS topic is configured, verified off the event loop), and SMTP bounce messages (DSNs) posted to
`/v1/bounces`, applied to the message and the customer record."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlmodel import Session

from ccm.access.models import Role
from ccm.communications.models import Message
from delivery import SnsMessageVerifier
from tests.ccm.conftest import INVOICE, WELCOME, Service, ServiceFactory, send
from tests.delivery.test_sns_notifications import Signer

TOPIC = "arn:aws:sns:us-east-1:123456789012:ccm-ses-events"
COMPLAINT = {
    "notificationType": "Complaint",
    "mail": {"messageId": "0100018f-ses-id"},
    "complaint": {
        "complaintFeedbackType": "abuse",
        "complainedRecipients": [{"emailAddress": "giulia.rossi@example.com"}],
    },
}


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def ses_service(service_factory: ServiceFactory, signer: Signer, customer: dict[str, Any]) -> Service:
    """The service with CCM_SNS_TOPIC_ARNS set, fetching certificates from the test signer."""
    service = service_factory(sns_topic_arns=[TOPIC])
    service.runtime.sns_verifier = SnsMessageVerifier(fetcher=signer.fetch, topic_arns=[TOPIC])
    return service


def notification(signer: Signer, event: dict[str, Any]) -> dict[str, Any]:
    return signer.sign(
        {
            "Type": "Notification",
            "MessageId": "sns-1",
            "TopicArn": TOPIC,
            "Message": json.dumps(event),
            "Timestamp": "2026-11-23T10:00:00.000Z",
        }
    )


def sent_through_ses(service: Service, key: str) -> str:
    """Send and hand off a welcome email, then pretend SES carried it: SES events name its provider id."""
    message_id = send(service, WELCOME, key)
    service.work()
    with Session(service.runtime.engine) as session:
        row = session.get(Message, message_id)
        assert row is not None
        row.provider_message_id = "0100018f-ses-id"
        session.add(row)
        session.commit()
    return message_id


def test_ses_bounce_and_complaint_via_sns_suppress_and_record(ses_service: Service, signer: Signer) -> None:
    service = ses_service
    sent_through_ses(service, "ses-1")
    forged = notification(signer, COMPLAINT) | {"Message": '{"notificationType": "Delivery"}'}
    assert service.client.post("/webhooks/ses", json=forged).status_code == 403
    response = service.client.post("/webhooks/ses", json=notification(signer, COMPLAINT))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1

    record = service.client.get("/v1/customers/c-1", headers=service.headers()).json()
    assert record["consent"]["unsubscribed_channels"] == ["email"]
    suppressions = service.client.get("/v1/suppressions", headers=service.headers()).json()
    assert [(s["address"], s["reason"], s["source"]) for s in suppressions] == [
        ("giulia.rossi@example.com", "complaint", "ses")
    ]
    refused = service.send(INVOICE, key="after-complaint")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "suppressed"
    other_topic = notification(signer, COMPLAINT) | {"TopicArn": "arn:aws:sns:us-east-1:1:other"}
    assert service.client.post("/webhooks/ses", json=other_topic).status_code == 403


def test_ses_events_are_refused_until_a_topic_is_configured(
    service: Service, customer: dict[str, Any], signer: Signer
) -> None:
    """A valid SNS signature only proves *some* topic sent it; without our topic nothing is accepted."""
    service.runtime.sns_verifier = SnsMessageVerifier(fetcher=signer.fetch)  # would accept any topic
    sent_through_ses(service, "ses-2")

    response = service.client.post("/webhooks/ses", json=notification(signer, COMPLAINT))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_configured"
    assert signer.fetched == []
    assert service.client.get("/v1/suppressions", headers=service.headers()).json() == []


def test_ses_webhook_refuses_every_topic_as_built_without_one(service: Service, signer: Signer) -> None:
    """Belt and braces: the verifier the runtime builds from empty settings accepts no topic either."""
    with pytest.raises(ValueError, match="topic"):
        service.runtime.sns_verifier.verify(notification(signer, COMPLAINT))


def test_the_signing_certificate_is_fetched_off_the_event_loop(ses_service: Service, signer: Signer) -> None:
    loops: list[bool] = []

    def fetch(url: str) -> bytes:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loops.append(False)
        else:
            loops.append(True)
        return signer.fetch(url)

    ses_service.runtime.sns_verifier = SnsMessageVerifier(fetcher=fetch, topic_arns=[TOPIC])
    sent_through_ses(ses_service, "ses-3")

    response = ses_service.client.post("/webhooks/ses", json=notification(signer, COMPLAINT))

    assert response.status_code == 200, response.text
    assert loops == [False]


def dsn_for(message_id: str, status: str = "5.1.1") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: bounces@ccm.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; giulia.rossi@example.com\r\n"
        f"Action: failed\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <giulia.rossi@example.com>: Recipient address rejected\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{message_id}@ccm.localhost>\r\nX-CCM-Message-Id: {message_id}\r\n"
        "Subject: Your invoice 2026-001\r\n\r\n"
        "--B--\r\n"
    ).encode()


def test_smtp_dsn_hard_bounce_is_ingested(service: Service, customer: dict[str, Any]) -> None:
    message_id = send(service, INVOICE, "dsn-1")
    service.work()
    headers = service.headers(Role.ADMIN, **{"Content-Type": "message/rfc822"})
    soft = service.client.post("/v1/bounces", content=dsn_for(message_id, "4.2.2"), headers=headers)
    assert soft.status_code == 200 and soft.json()["applied"] == 1
    assert service.message(message_id)["status"] == "sent"  # a soft bounce only notes it
    hard = service.client.post("/v1/bounces", content=dsn_for(message_id), headers=headers)
    assert hard.status_code == 200 and hard.json()["message_ids"] == [message_id]
    assert service.message(message_id)["status"] == "bounced"
    assert service.send(INVOICE, key="dsn-2").json()["error"]["code"] == "suppressed"
    garbage = service.client.post("/v1/bounces", content=b"hello", headers=headers)
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_dsn"
    marketer = service.client.post(
        "/v1/bounces", content=dsn_for(message_id), headers=service.headers(Role.MARKETER)
    )
    assert marketer.status_code == 403
