"""Providers chosen from settings: a route of several fails over in order (SMTP down, SES carries the message
and the archive holds what SES got), and marketing and transactional email may take different routes."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from tests.ccm.conftest import INVOICE, WELCOME, ServiceFactory, send
from tests.fixtures.aws import moto_raw_emails
from tests.fixtures.s3 import DUMMY_CREDENTIALS, REGION
from tests.fixtures.smtp import SmtpTestServer, free_port


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
