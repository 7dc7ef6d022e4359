"""The send API under bad input and retries: clear 4xx errors, nothing lost, nothing sent twice; batch sends
answered item by item."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, func, select

from ccm.communications.models import Message
from tests.ccm.conftest import INVOICE, INVOICE_DATA, Service, ServiceFactory, send
from tests.fixtures.smtp import SmtpTestServer


def message_count(service: Service) -> int:
    with Session(service.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(Message)).one())


def test_same_key_same_body_replays_the_first_response(service: Service, customer: dict[str, Any]) -> None:
    first = service.send(INVOICE, key="inv-2026-001")
    second = service.send(INVOICE, key="inv-2026-001")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert message_count(service) == 1
    service.work()
    third = service.send(INVOICE, key="inv-2026-001")
    assert third.json() == first.json()
    assert service.work() == 0


def test_same_key_different_body_is_refused_and_sends_nothing(
    service: Service, customer: dict[str, Any]
) -> None:
    assert service.send(INVOICE, key="inv-7").status_code == 202
    other = {**INVOICE, "data": {"invoice": {**INVOICE_DATA["invoice"], "total": 1}}}
    response = service.send(other, key="inv-7")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert message_count(service) == 1


def test_failed_request_does_not_burn_the_key(service: Service, customer: dict[str, Any]) -> None:
    bad = service.send({**INVOICE, "data": {}}, key="inv-8")
    assert bad.status_code == 422
    good = service.send(INVOICE, key="inv-8")
    assert good.status_code == 202


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**INVOICE, "template": "nope"}, 404, "template"),
        ({**INVOICE, "customer_id": "unknown"}, 404, "customer_id"),
        ({**INVOICE, "channels": ["fax"]}, 422, "channels.0"),
        ({**INVOICE, "channels": ["email", "email"]}, 422, "channels"),
        ({"template": "otp", "customer_id": "c-1", "channels": ["email"], "data": {}}, 422, "channels"),
        ({**INVOICE, "data": {"x": "a\u0000b"}}, 422, "data"),
        ({**INVOICE, "send_at": "not a date"}, 422, "send_at"),
        ({**INVOICE, "unexpected": 1}, 422, "unexpected"),
        ({"customer_id": "c-1"}, 422, "template"),
    ],
)
def test_bad_send_requests_get_a_clear_4xx(
    service: Service, customer: dict[str, Any], body: dict[str, Any], status: int, field: str
) -> None:
    response = service.send(body, key="k")
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    assert error["field"] == field
    assert message_count(service) == 0


def test_oversized_payload_is_413_and_nothing_is_stored(service: Service, customer: dict[str, Any]) -> None:
    big = {**INVOICE, "data": {"blob": "x" * (1024 * 1024 + 10)}}
    response = service.send(big, key="big")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert message_count(service) == 0


def test_bad_idempotency_key_is_refused(service: Service, customer: dict[str, Any]) -> None:
    response = service.send(INVOICE, key="has space")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "Idempotency-Key"


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


def test_provider_outage_leaves_the_message_queued_then_delivers_it(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(  # retries far enough apart that one work() pass cannot reach the next one
        email_provider="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_timeout=2,
        retry_base_seconds=0.5,
    )
    smtp_server.fail_next(code=451, message="try again later")
    message_id = service.send(INVOICE, key="outage").json()["messages"][0]["id"]
    service.work()
    after_451 = service.message(message_id)
    assert after_451["status"] == "queued" and "451" in after_451["last_error"]

    smtp_server.stop()
    _wait_due(service, message_id)
    service.work()
    after_down = service.message(message_id)
    assert after_down["status"] == "queued" and after_down["attempts"] == 2

    smtp_server.start()
    _wait_due(service, message_id)
    service.work()
    sent = service.message(message_id)
    assert sent["status"] == "sent" and sent["attempts"] == 3
    [received] = smtp_server.wait_for(1)
    assert received.data.startswith(b"From:") or b"Message-ID" in received.data
    archive_sha = sent["archive"]["sha256"]
    kinds = [event["type"] for event in sent["events"]]
    assert kinds.count("archived") == 1 and kinds.count("retry") == 2  # rendered and archived once
    import hashlib

    assert hashlib.sha256(received.data).hexdigest() == archive_sha


def test_550_bounces_suppresses_the_address_and_refuses_later_sends(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    smtp_server.reject_rcpt_always(550, "5.1.1 no such user")
    message_id = service.send(INVOICE, key="perm").json()["messages"][0]["id"]
    service.work()
    message = service.message(message_id)
    assert message["status"] == "bounced"
    assert "550" in message["last_error"]
    assert message["attempts"] == 1
    kinds = [event["type"] for event in message["events"]]
    assert "bounced" in kinds and "suppressed" in kinds
    assert service.work() == 0

    listed = service.client.get("/v1/suppressions", headers=service.headers()).json()
    assert [(s["channel"], s["address"], s["reason"]) for s in listed] == [
        ("email", "giulia.rossi@example.com", "hard_bounce")
    ]
    again = service.send(INVOICE, key="perm-2")
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "suppressed"

    lifted = service.client.delete(
        "/v1/suppressions/email/giulia.rossi@example.com", headers=service.headers()
    )
    assert lifted.status_code == 204
    assert service.send(INVOICE, key="perm-3").status_code == 202


def test_a_hard_bounce_suppresses_an_idn_address_in_either_form(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    body = {"email": "anna@Bücher.example", "attributes": {"first_name": "Anna", "last_name": "Weber"}}
    assert service.client.put("/v1/customers/idn", json=body, headers=service.headers()).status_code == 201
    smtp_server.reject_rcpt_always(550, "5.1.1 no such user")
    invoice = {**INVOICE, "customer_id": "idn"}
    message_id = send(service, invoice, "idn-1")
    service.work()
    assert service.message(message_id)["status"] == "bounced"

    listed = service.client.get("/v1/suppressions", headers=service.headers()).json()
    assert [(s["address"], s["reason"]) for s in listed] == [("anna@xn--bcher-kva.example", "hard_bounce")]
    again = service.client.post(
        "/v1/suppressions",
        json={"channel": "email", "address": "anna@bücher.example", "reason": "manual"},
        headers=service.headers(),
    )
    assert again.status_code == 409  # the Unicode form is the same address
    assert service.send(invoice, key="idn-2").json()["error"]["code"] == "suppressed"
    lifted = service.client.delete("/v1/suppressions/email/anna@BÜCHER.example", headers=service.headers())
    assert lifted.status_code == 204
    assert service.send(invoice, key="idn-3").status_code == 202


def test_scheduled_send_waits_for_send_at(service: Service, customer: dict[str, Any]) -> None:
    response = service.send({**INVOICE, "send_at": "2199-01-01T09:00:00+01:00"}, key="later")
    message_id = response.json()["messages"][0]["id"]
    assert service.work() == 0
    assert service.message(message_id)["send_at"].startswith("2199-01-01T08:00:00")


def _wait_due(service: Service, message_id: str) -> None:
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with Session(service.runtime.engine) as session:
            message = session.get(Message, message_id)
            assert message is not None
            from ccm.database import utcnow

            if message.next_attempt_at <= utcnow():
                return
        time.sleep(0.02)
