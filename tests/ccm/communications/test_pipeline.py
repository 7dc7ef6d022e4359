"""One communication end to end, through the HTTP API and the real worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import hashlib
import io
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from delivery import compute_twilio_signature
from tests.ccm.conftest import INVOICE_DATA, Service, ServiceFactory
from tests.fixtures.s3 import S3Bucket, make_s3_client
from tests.fixtures.sms_api import FakeTwilioApi
from tests.fixtures.smtp import SmtpTestServer


def parse_email(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def qpdf_check(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def send_one(service: Service, body: dict[str, Any], key: str) -> str:
    response = service.send(body, key=key)
    assert response.status_code == 202, response.text
    messages = response.json()["messages"]
    assert len(messages) == 1
    return str(messages[0]["id"])


def test_invoice_email_with_pdf_reaches_smtp_and_matches_the_archive(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any], tmp_path: Path
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    message_id = send_one(
        service,
        {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]},
        "inv-1",
    )

    assert service.message(message_id)["status"] == "queued"
    assert service.work() == 1

    message = service.message(message_id)
    assert message["status"] == "sent", message
    assert message["attempts"] == 1
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("giulia.rossi@example.com",)
    assert hashlib.sha256(received.data).hexdigest() == message["archive"]["sha256"]

    archived = service.client.get(f"/v1/archive/{message_id}/content", headers=service.headers())
    assert archived.status_code == 200
    assert archived.content == received.data
    assert archived.headers["content-type"].startswith("message/rfc822")

    parsed = parse_email(received.data)
    assert parsed["Subject"] == "Your invoice 2026-001"
    assert parsed["Message-ID"] == f"<{message_id}@ccm.localhost>"
    assert parsed["List-Unsubscribe"] is None  # transactional
    html = parsed.get_body(("html",))
    assert html is not None and "Giulia" in html.get_content() and "/t/o/" in html.get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    text = "".join(page.extract_text() for page in reader.pages)
    assert "2026-001" in text and "Router rental" in text
    qpdf_check(pdf, tmp_path)


def test_sms_goes_out_in_twilio_wire_format_and_status_callbacks_update_the_record(
    service_factory: ServiceFactory, twilio_api: FakeTwilioApi, customer: dict[str, Any]
) -> None:
    service = service_factory(
        sms_provider="twilio",
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=twilio_api.auth_token,
        twilio_from="+15005550006",
        twilio_base_url=twilio_api.base_url,
    )
    message_id = send_one(
        service,
        {"template": "otp", "customer_id": "c-1", "data": {"code": "482913", "expires_minutes": 10}},
        "otp-1",
    )
    service.work()

    message = service.message(message_id)
    assert message["status"] == "sent", message
    [request] = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json"
    assert request.auth == (twilio_api.account_sid, twilio_api.auth_token)
    assert request.form["To"] == "+393471234501"
    assert request.form["From"] == "+15005550006"
    assert "482913" in request.form["Body"]
    assert request.form["StatusCallback"] == "http://ccm.test/webhooks/twilio/status"
    assert message["provider_message_id"].startswith("SM")

    callback = {
        "MessageSid": message["provider_message_id"],
        "MessageStatus": "delivered",
        "AccountSid": twilio_api.account_sid,
    }
    forged = service.client.post(
        "/webhooks/twilio/status", data=callback, headers={"X-Twilio-Signature": "AAAA"}
    )
    assert forged.status_code == 403
    assert service.message(message_id)["status"] == "sent"

    signature = compute_twilio_signature(request.form["StatusCallback"], callback, twilio_api.auth_token)
    accepted = service.client.post(
        "/webhooks/twilio/status", data=callback, headers={"X-Twilio-Signature": signature}
    )
    assert accepted.status_code == 204, accepted.text
    assert service.message(message_id)["status"] == "delivered"
    summary = service.client.get("/v1/customers/c-1", headers=service.headers()).json()["engagement"]
    assert summary["delivered"] == 1


def test_archive_in_s3_holds_the_exact_bytes(
    service_factory: ServiceFactory, s3_bucket: S3Bucket, customer: dict[str, Any]
) -> None:
    service = service_factory(
        archive_url=f"s3://{s3_bucket.bucket_name}/archive",
        s3_endpoint_url=s3_bucket.endpoint_url,
        s3_region="us-east-1",
    )
    message_id = send_one(
        service,
        {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]},
        "s3-1",
    )
    service.work()

    entry = service.client.get(f"/v1/archive/{message_id}", headers=service.headers()).json()
    assert entry["store_url"].rstrip("/") == f"s3://{s3_bucket.bucket_name}/archive"
    s3 = make_s3_client(s3_bucket.endpoint_url)
    head = s3.head_object(Bucket=s3_bucket.bucket_name, Key=f"archive/{entry['object_key']}")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["VersionId"] == entry["version_id"]
    archived = service.client.get(f"/v1/archive/{message_id}/content", headers=service.headers()).content
    assert hashlib.sha256(archived).hexdigest() == entry["sha256"]
    outbox = (service.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    assert outbox == archived
    assert entry["context"]["invoice"]["number"] == "2026-001"
    assert entry["template"] == "invoice" and entry["template_version"] == 1


def test_pdf_document_is_archived_printed_and_offered_through_a_signed_link(
    service: Service, customer: dict[str, Any], tmp_path: Path
) -> None:
    body = {"template": "statement", "customer_id": "c-1", "data": _statement_data(service)}
    message_id = send_one(service, body, "doc-1")
    service.work()

    message = service.message(message_id)
    assert message["status"] == "sent"
    assert message["archive"]["content_type"] == "application/pdf"
    printed = (service.settings.outbox_dir / f"{message_id}.pdf").read_bytes()
    assert hashlib.sha256(printed).hexdigest() == message["archive"]["sha256"]
    qpdf_check(printed, tmp_path)
    link = message["document_url"]
    assert link.startswith("http://ccm.test/d/")
    opened = service.client.get(link.removeprefix("http://ccm.test"))
    assert opened.status_code == 200 and opened.content == printed
    assert service.client.get(link.removeprefix("http://ccm.test")[:-3] + "xyz").status_code == 404


def _statement_data(service: Service) -> dict[str, Any]:
    template = service.client.get("/v1/templates/statement", headers=service.headers()).json()
    sample: dict[str, Any] = template["latest"]["sample_data"]
    return sample
