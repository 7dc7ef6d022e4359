"""The dispatcher: events reach a loopback receiver signed, failures retry with backoff, an endpoint that
keeps failing is disabled, and a dispatcher that dies mid-delivery leaves its lease to expire."""

from __future__ import annotations

import email
import json
import re
import time
from datetime import timedelta
from email import policy
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.background import BackgroundServices
from ccm.communications.models import Message
from ccm.database import session_scope, utcnow
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.webhooks.addresses import Target
from ccm.webhooks.client import Attempt, make_client, post
from ccm.webhooks.dispatch import Dispatcher
from ccm.webhooks.events import emit_event
from ccm.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from delivery.standard_webhooks import SignatureError, verify
from tests.ccm.conftest import INVOICE, Service, ServiceFactory, send
from tests.ccm.webhooks.conftest import Receiver

LOOPBACK = {"webhook_allowed_hosts": ["127.0.0.1"], "webhook_retry_base_seconds": 0.2}


@pytest.fixture
def hooked(service_factory: ServiceFactory) -> Service:
    return service_factory(**LOOPBACK)


def subscribe(service: Service, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    body = {"url": receiver.url, "events": events or ["message.delivered", "message.clicked"]}
    response = service.client.post("/v1/webhook-endpoints", json=body, headers=service.headers())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def delivered_event(service: Service, message_id: str, type: EventType = EventType.DELIVERED) -> None:
    """Record an event about a real message the way the provider-event and tracking paths do."""
    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        record_message_event(session, message, type, {"provider": "outbox"})


def dispatcher(service: Service, **overrides: Any) -> Dispatcher:
    settings = service.settings.model_copy(update=overrides)
    return Dispatcher(service.runtime.engine, settings)


def deliveries(service: Service) -> list[WebhookDelivery]:
    with session_scope(service.runtime.engine) as session:
        return list(session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.created_at))).all())


def test_an_event_reaches_the_receiver_signed(hooked: Service, customer: Any, receiver: Receiver) -> None:
    endpoint = subscribe(hooked, receiver)
    message_id = send(hooked, INVOICE, "wh-1")
    hooked.work()  # records sent, archived...: none of them is a webhook event
    assert deliveries(hooked) == []
    delivered_event(hooked, message_id)
    assert dispatcher(hooked).run_until_idle() == 1
    [hit] = receiver.received
    webhook_id = verify(endpoint["secret"], hit.headers, hit.body)
    body = json.loads(hit.body)
    assert body["type"] == "message.delivered" and body["data"]["message_id"] == message_id
    assert body["data"]["channel"] == "email" and hit.headers["content-type"] == "application/json"
    listed = hooked.client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=hooked.headers())
    [row] = listed.json()["deliveries"]
    assert row["id"] == webhook_id and row["status"] == "delivered"
    assert row["attempts"] == 1 and row["last_status_code"] == 200


def emit_then_fail(service: Service) -> None:
    with session_scope(service.runtime.engine) as session:
        assert emit_event(session, "message.clicked", {"message_id": "m"}) == 1
        raise RuntimeError("the change the event reported rolled back")


def test_unsubscribed_types_and_rolled_back_events_queue_nothing(hooked: Service, receiver: Receiver) -> None:
    subscribe(hooked, receiver, ["message.clicked"])
    with session_scope(hooked.runtime.engine) as session:
        assert emit_event(session, "message.delivered", {"message_id": "m"}) == 0
    with pytest.raises(RuntimeError, match="rolled back"):
        emit_then_fail(hooked)
    assert deliveries(hooked) == []
    with (
        pytest.raises(ValueError, match="unknown webhook event"),
        session_scope(hooked.runtime.engine) as session,
    ):
        emit_event(session, "message.exploded", {})


def test_a_failing_receiver_is_retried_with_growing_backoff(hooked: Service, receiver: Receiver) -> None:
    endpoint = subscribe(hooked, receiver)
    with session_scope(hooked.runtime.engine) as session:
        emit_event(session, "message.clicked", {"message_id": "m-1", "detail": {"url": "https://x.test"}})
    receiver.answer(500, 503)
    worker = dispatcher(hooked)
    delays = []
    for attempt in (1, 2):
        assert worker.run_until_idle() == 1
        [row] = deliveries(hooked)
        assert row.attempts == attempt and row.status == DeliveryStatus.PENDING
        assert row.last_status_code in (500, 503) and row.last_error is not None
        delays.append((row.next_attempt_at - row.updated_at).total_seconds())
        assert worker.run_until_idle() == 0  # not due before its backoff passed
        time.sleep(delays[-1] + 0.05)
    assert 0.2 * 0.8 <= delays[0] <= 0.2 * 1.2 + 0.05
    assert 0.8 * 0.8 <= delays[1] <= 0.8 * 1.2 + 0.05
    assert worker.run_until_idle() == 1
    [row] = deliveries(hooked)
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 3
    ids = {hit.headers["webhook-id"] for hit in receiver.received}
    assert len(receiver.received) == 3 and ids == {row.id}  # one id on every attempt
    shown = hooked.client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=hooked.headers()).json()
    assert shown["consecutive_failures"] == 0 and shown["failing_since"] is None


def test_a_delivery_fails_after_its_last_attempt(hooked: Service, receiver: Receiver) -> None:
    subscribe(hooked, receiver)
    with session_scope(hooked.runtime.engine) as session:
        emit_event(session, "message.delivered", {"message_id": "m-1"})
    receiver.answer(500, 500)
    worker = dispatcher(hooked, webhook_max_attempts=2, webhook_retry_base_seconds=0.01)
    worker.run_until_idle()
    time.sleep(0.05)
    worker.run_until_idle()
    [row] = deliveries(hooked)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 2
    time.sleep(0.05)
    assert worker.run_until_idle() == 0


def test_repeated_failure_disables_the_endpoint_until_an_admin_enables_it(
    hooked: Service, receiver: Receiver
) -> None:
    endpoint = subscribe(hooked, receiver)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    with session_scope(hooked.runtime.engine) as session:
        for number in range(4):
            emit_event(session, "message.delivered", {"message_id": f"m-{number}"})
    receiver.answer(500, 500, 500)
    worker = dispatcher(hooked, webhook_disable_after_failures=3)
    worker.run_once()
    shown = hooked.client.get(path, headers=hooked.headers()).json()
    assert shown["enabled"] is False and "3 consecutive failed" in shown["disabled_reason"]
    assert len(receiver.received) == 3  # the fourth was not sent to a disabled endpoint
    with session_scope(hooked.runtime.engine) as session:
        assert emit_event(session, "message.delivered", {"message_id": "late"}) == 0
    time.sleep(1.0)
    assert worker.run_until_idle() == 0
    enabled = hooked.client.patch(path, json={"enabled": True}, headers=hooked.headers()).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert worker.run_until_idle() == 4  # everything still pending goes out
    assert {row.status for row in deliveries(hooked)} == {DeliveryStatus.DELIVERED}


def test_an_endpoint_failing_for_a_day_is_disabled(hooked: Service, receiver: Receiver) -> None:
    endpoint = subscribe(hooked, receiver)
    with session_scope(hooked.runtime.engine) as session:
        emit_event(session, "message.delivered", {"message_id": "m"})
        row = session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        row.failing_since, row.consecutive_failures = utcnow() - timedelta(hours=25), 7
        session.add(row)
    receiver.answer(500)
    dispatcher(hooked).run_until_idle()
    shown = hooked.client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=hooked.headers()).json()
    assert shown["enabled"] is False and "24 hours" in shown["disabled_reason"]


def test_a_dispatcher_dying_mid_delivery_is_redelivered_after_its_lease(
    service_factory: ServiceFactory, receiver: Receiver
) -> None:
    service = service_factory(**LOOPBACK, lease_seconds=5)
    endpoint = subscribe(service, receiver)
    with session_scope(service.runtime.engine) as session:
        emit_event(session, "message.delivered", {"message_id": "m"})
    doomed, survivor = dispatcher(service), dispatcher(service)
    [delivery_id] = doomed.claim(10)
    doomed._send(delivery_id, receiver.url, endpoint["secret"], b'{"partial": true}')  # then it dies
    assert survivor.run_until_idle() == 0  # the lease still holds
    time.sleep(5.1)
    assert survivor.run_until_idle() == 1
    doomed._record(delivery_id, Attempt(200, None))
    [row] = deliveries(service)
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 1  # the dead one's late word is ignored
    assert [hit.headers["webhook-id"] for hit in receiver.received[:2]] == [delivery_id, delivery_id]


def test_the_url_is_checked_again_at_delivery_time(hooked: Service, receiver: Receiver) -> None:
    endpoint = subscribe(hooked, receiver)
    with session_scope(hooked.runtime.engine) as session:
        emit_event(session, "message.delivered", {"message_id": "m"})
    dispatcher(hooked, webhook_allowed_hosts=[]).run_until_idle()
    assert receiver.received == []
    listed = hooked.client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=hooked.headers())
    [row] = listed.json()["deliveries"]
    assert row["status"] == "pending" and row["last_error"].startswith("refused: ")
    assert "loopback" in row["last_error"] or "https" in row["last_error"]


def test_the_request_goes_to_the_checked_address_with_the_name_as_host(receiver: Receiver) -> None:
    url = f"http://hooks.ccm.invalid:{receiver.port}/hooks"  # a name no resolver knows
    target = Target(url=url, host="hooks.ccm.invalid", addresses=("::1", "127.0.0.1"))
    with make_client() as client:
        attempt = post(client, target, b"{}", {"webhook-id": "msg_1"})
    assert attempt.ok, attempt.error
    [hit] = receiver.received
    assert hit.headers["host"] == f"hooks.ccm.invalid:{receiver.port}" and hit.path == "/hooks"


def test_a_tracked_click_and_an_unsubscribe_go_out_as_webhooks(
    hooked: Service, customer: Any, receiver: Receiver
) -> None:
    endpoint = subscribe(hooked, receiver, ["message.clicked", "customer.unsubscribed"])
    response = hooked.send(
        {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://x.test/a"}}
    )
    message_id = response.json()["messages"][0]["id"]
    hooked.work()
    raw = (hooked.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    click = re.findall(r'href="http://ccm\.test(/t/c/[^"]+)"', html)[0]
    unsubscribe = str(parsed["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://ccm.test")
    assert hooked.client.head(click).status_code == 200  # a link scanner's: on the timeline, not a webhook
    with session_scope(hooked.runtime.engine) as session:  # a person reads it a while after delivery
        sent = session.get(Message, message_id)
        assert sent is not None and sent.sent_at is not None
        sent.sent_at -= timedelta(minutes=5)
    assert hooked.client.get(click, follow_redirects=False).status_code in (302, 303, 307)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    hooked.client.post(unsubscribe, content=b"List-Unsubscribe=One-Click", headers=form)
    assert dispatcher(hooked).run_until_idle() == 2
    bodies = [json.loads(hit.body) for hit in receiver.received]
    assert sorted(body["type"] for body in bodies) == ["customer.unsubscribed", "message.clicked"]
    assert {body["data"]["message_id"] for body in bodies} == {message_id}
    for hit in receiver.received:
        verify(endpoint["secret"], hit.headers, hit.body)


def test_the_background_services_of_ccm_serve_dispatch_webhooks(hooked: Service, receiver: Receiver) -> None:
    subscribe(hooked, receiver)
    with session_scope(hooked.runtime.engine) as session:
        emit_event(session, "message.delivered", {"message_id": "m"})
    services = BackgroundServices(hooked.runtime)
    services.start()
    try:
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        services.stop()
    assert services.webhook_thread.name == "ccm-webhooks" and not services.webhook_thread.is_alive()
    assert [row.status for row in deliveries(hooked)] == [DeliveryStatus.DELIVERED]


def test_a_consent_change_goes_out_as_a_webhook(hooked: Service, customer: Any, receiver: Receiver) -> None:
    endpoint = subscribe(hooked, receiver, ["consent.changed"])
    body = {"consents": [{"channel": "sms", "topic": None, "state": "revoked"}], "source": "crm"}
    response = hooked.client.put("/v1/customers/c-1/consent", json=body, headers=hooked.headers())
    assert response.status_code == 200, response.text

    assert dispatcher(hooked).run_until_idle() == 1
    [hit] = receiver.received
    verify(endpoint["secret"], hit.headers, hit.body)
    event = json.loads(hit.body)
    assert event["type"] == "consent.changed"
    assert {k: event["data"][k] for k in ("channel", "topic", "state", "source")} == {
        "channel": "sms",
        "topic": None,
        "state": "revoked",
        "source": "crm",
    }


def rotate(service: Service, endpoint: dict[str, Any], query: str = "") -> dict[str, Any]:
    path = f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret{query}"
    response = service.client.post(path, headers=service.headers())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_after_a_rotation_both_secrets_sign_until_the_grace_ends(
    hooked: Service, customer: Any, receiver: Receiver
) -> None:
    endpoint = subscribe(hooked, receiver)
    rotated = rotate(hooked, endpoint, "?grace_hours=1")
    assert rotated["previous_secret_expires_at"] is not None
    message_id = send(hooked, INVOICE, "wh-rot")
    delivered_event(hooked, message_id)
    assert dispatcher(hooked).run_until_idle() == 1
    [during] = receiver.received
    assert verify(endpoint["secret"], during.headers, during.body)  # a receiver not yet switched
    assert verify(rotated["secret"], during.headers, during.body)  # and one already switched
    with session_scope(hooked.runtime.engine) as session:
        row = session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        row.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    delivered_event(hooked, message_id, EventType.CLICKED)
    assert dispatcher(hooked).run_until_idle() == 1
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split()) == 1
    assert verify(rotated["secret"], after.headers, after.body)


def test_a_rotation_without_grace_stops_the_old_secret_at_once(
    hooked: Service, customer: Any, receiver: Receiver
) -> None:
    endpoint = subscribe(hooked, receiver)
    rotated = rotate(hooked, endpoint, "?grace_hours=0")
    assert rotated["previous_secret_expires_at"] is None
    delivered_event(hooked, send(hooked, INVOICE, "wh-leak"))
    assert dispatcher(hooked).run_until_idle() == 1
    [hit] = receiver.received
    assert verify(rotated["secret"], hit.headers, hit.body)
    with pytest.raises(SignatureError):
        verify(endpoint["secret"], hit.headers, hit.body)
    too_long = hooked.client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret?grace_hours=169", headers=hooked.headers()
    )
    assert too_long.status_code == 422 and "grace_hours" in too_long.text
