"""The service's delivery features end to end: routing and failover, DKIM before archiving, inbound bounce
and complaint events (SES via SNS, SMTP DSNs), batch sends, cancel and requeue, lanes, deadlines, metrics."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ccm.access.models import Role
from ccm.communications.worker import Worker
from delivery import DkimSigner, SnsMessageVerifier
from tests.ccm.conftest import INVOICE_DATA, Service, ServiceFactory
from tests.delivery.test_sns_notifications import Signer
from tests.fixtures.aws import moto_raw_emails
from tests.fixtures.s3 import DUMMY_CREDENTIALS, REGION
from tests.fixtures.smtp import SmtpTestServer, free_port

INVOICE = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]}
WELCOME = {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://example.com/go"}}
TOPIC = "arn:aws:sns:us-east-1:123456789012:ccm-ses-events"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def verified_sender(endpoint: str) -> str:
    client = boto3.client("sesv2", endpoint_url=endpoint, region_name=REGION)
    client.create_email_identity(EmailIdentity="ccm.localhost")
    client.close()
    return "ccm <noreply@ccm.localhost>"


def send(service: Service, body: dict[str, Any], key: str) -> str:
    response = service.send(body, key=key)
    assert response.status_code == 202, response.text
    return str(response.json()["messages"][0]["id"])


def test_failover_to_ses_when_smtp_is_down_and_the_archive_matches_what_ses_got(
    service_factory: ServiceFactory, moto_s3_server: str, aws_env: None, customer: dict[str, Any]
) -> None:
    service = service_factory(
        email_from=verified_sender(moto_s3_server),
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nothing listens: connection refused, a transient error
        smtp_timeout=1,
        aws_region=REGION,
        ses_endpoint_url=moto_s3_server,
        routes={"email": ["smtp", "ses"]},
    )
    message_id = send(service, INVOICE, "failover-1")
    service.work()
    message = service.message(message_id)
    assert message["status"] == "sent", message
    assert message["provider"] == "ses"
    raw = moto_raw_emails(moto_s3_server)[message["provider_message_id"]]["raw_data"]
    assert (
        hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest()
        == message["archive"]["sha256"]
    )


def test_marketing_and_transactional_routes_differ(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        routes={"email:transactional": ["smtp"], "email:marketing": ["outbox"]},
    )
    invoice_id = send(service, INVOICE, "route-1")
    welcome_id = send(service, WELCOME, "route-2")
    service.work()
    assert service.message(invoice_id)["provider"] == "smtp"
    assert service.message(welcome_id)["provider"] == "email-outbox"
    assert len(smtp_server.messages) == 1


def test_dkim_signature_is_part_of_the_archived_bytes(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any], tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    service = service_factory(
        email_provider="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        dkim_domain="ccm.localhost",
        dkim_selector="s1",
        dkim_private_key_file=key_file,
    )
    message_id = send(service, INVOICE, "dkim-1")
    service.work()
    [received] = smtp_server.wait_for(1)
    assert received.data.startswith(b"DKIM-Signature:")
    assert hashlib.sha256(received.data).hexdigest() == service.message(message_id)["archive"]["sha256"]
    record = DkimSigner("ccm.localhost", "s1", pem).dns_record().encode()

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"s1._domainkey.ccm.localhost." else None

    assert dkim.verify(received.data, dnsfunc=lookup)


def test_ses_bounce_and_complaint_via_sns_suppress_and_record(
    service: Service, customer: dict[str, Any]
) -> None:
    signer = Signer()
    service.runtime.sns_verifier = SnsMessageVerifier(fetcher=signer.fetch, topic_arns=[TOPIC])
    message_id = send(service, WELCOME, "ses-1")
    service.work()
    # pretend SES carried it: the provider id is what SES events name
    from sqlmodel import Session

    from ccm.communications.models import Message

    with Session(service.runtime.engine) as session:
        row = session.get(Message, message_id)
        assert row is not None
        row.provider_message_id = "0100018f-ses-id"
        session.add(row)
        session.commit()

    def notification(event: dict[str, Any]) -> dict[str, Any]:
        import json

        return signer.sign(
            {
                "Type": "Notification",
                "MessageId": "sns-1",
                "TopicArn": TOPIC,
                "Message": json.dumps(event),
                "Timestamp": "2026-11-23T10:00:00.000Z",
            }
        )

    complaint = {
        "notificationType": "Complaint",
        "mail": {"messageId": "0100018f-ses-id"},
        "complaint": {
            "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": "giulia.rossi@example.com"}],
        },
    }
    forged = notification(complaint) | {"Message": '{"notificationType": "Delivery"}'}
    assert service.client.post("/webhooks/ses", json=forged).status_code == 403
    response = service.client.post("/webhooks/ses", json=notification(complaint))
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
    other_topic = notification(complaint) | {"TopicArn": "arn:aws:sns:us-east-1:1:other"}
    assert service.client.post("/webhooks/ses", json=other_topic).status_code == 403


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


def test_batch_sends_each_item_on_its_own_and_replays_on_retry(
    service: Service, customer: dict[str, Any]
) -> None:
    items = [
        {**INVOICE, "idempotency_key": "b-1"},
        {**INVOICE, "customer_id": "nobody", "idempotency_key": "b-2"},
        {
            **INVOICE,
            "data": {"invoice": {**INVOICE_DATA["invoice"], "number": "2026-002"}},
            "idempotency_key": "b-3",
        },
    ]
    first = service.client.post("/v1/messages:batch", json={"messages": items}, headers=service.headers())
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert [r["status"] for r in body["results"]] == [202, 404, 202]
    assert body["results"][1]["error"]["code"] == "customer_not_found"
    again = service.client.post("/v1/messages:batch", json={"messages": items}, headers=service.headers())
    assert [r.get("messages") for r in again.json()["results"]] == [
        r.get("messages") for r in body["results"]
    ]
    assert service.work() == 2
    too_many = service.client.post(
        "/v1/messages:batch", json={"messages": [items[0]] * 1001}, headers=service.headers()
    )
    assert too_many.status_code == 422


def test_cancel_a_scheduled_message_and_requeue_a_dead_letter(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    later = send(service, {**INVOICE, "send_at": "2199-01-01T00:00:00Z"}, "cancel-1")
    cancelled = service.client.post(f"/v1/messages/{later}/cancel", headers=service.headers())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert service.client.post(f"/v1/messages/{later}/cancel", headers=service.headers()).status_code == 409

    expires = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    smtp_server.fail_next(code=451, message="greylisted", count=10_000)
    doomed = send(service, {**INVOICE, "expires_at": expires}, "deadline-1")
    deadline = time.monotonic() + 10
    while service.message(doomed)["status"] != "failed" and time.monotonic() < deadline:
        service.work()
        time.sleep(0.05)
    failed = service.message(doomed)
    assert failed["status"] == "failed" and "deadline" in failed["last_error"]
    dead = service.client.get("/v1/messages", params={"status": "failed"}, headers=service.headers()).json()
    assert [m["id"] for m in dead["items"]] == [doomed]

    smtp_server.reset_failures()
    requeued = service.client.post(f"/v1/messages/{doomed}/requeue", headers=service.headers())
    assert requeued.status_code == 200 and requeued.json()["status"] == "queued"
    service.work()
    assert service.message(doomed)["status"] == "sent"
    assert len(smtp_server.messages) == 1  # archived bytes sent once they could be


def test_transactional_lane_never_waits_behind_marketing(service: Service, customer: dict[str, Any]) -> None:
    marketing = [
        send(service, WELCOME | {"data": {"cta_url": f"https://e.com/{i}"}}, f"m-{i}") for i in range(5)
    ]
    invoice = send(service, INVOICE, "t-1")
    worker = Worker(service.runtime)
    assert worker.claim(1) == [invoice]
    transactional_only = Worker(service.runtime, lanes=["transactional"])
    assert transactional_only.claim(10) == []  # the invoice is leased; marketing is not its lane
    assert sorted(Worker(service.runtime, lanes=["marketing"]).claim(10)) == sorted(marketing)


def test_metrics_report_queue_depth_and_handoffs(service: Service, customer: dict[str, Any]) -> None:
    send(service, INVOICE, "metrics-1")
    send(service, {**INVOICE, "send_at": "2199-01-01T00:00:00Z"}, "metrics-2")
    service.work()
    response = service.client.get("/metrics", headers=service.headers())
    assert response.status_code == 200
    text = response.text
    assert 'ccm_queue_depth{lane="transactional",status="queued"} 1.0' in text
    assert 'ccm_queue_depth{lane="transactional",status="sent"} 1.0' in text
    assert 'ccm_handoffs_total{channel="email",outcome="accepted",provider="email-outbox"}' in text
    assert "ccm_render_seconds_bucket" in text
    assert service.client.get("/metrics", headers=service.headers(Role.MARKETER)).status_code == 403
