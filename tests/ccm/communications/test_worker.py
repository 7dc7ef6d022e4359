"""The outbox worker end to end: DKIM signing before archiving, cancel and deadlines (the dead letter and its
requeue), and lanes that keep transactional mail from waiting behind marketing."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ccm.communications.worker import Worker
from delivery import DkimSigner
from tests.ccm.conftest import INVOICE, WELCOME, Service, ServiceFactory, send
from tests.fixtures.smtp import SmtpTestServer


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
