"""WebhookProvider against a loopback receiver that verifies X-CCM-Signature; the signing helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from delivery import (
    Channel,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    WebhookProvider,
    sign_webhook,
    verify_webhook_signature,
)
from tests.fixtures.smtp import free_port
from tests.fixtures.webhook_receiver import WebhookReceiver

PDF = b"%PDF-1.7\n\x00\xff binary"


def message(
    channel: str = Channel.PDF, payload: bytes = PDF, content_type: str = "application/pdf"
) -> OutgoingMessage:
    return OutgoingMessage(
        "m-42", channel, "anna@example.org", "billing", payload, content_type, {"template": "invoice"}
    )


@pytest.fixture
def provider(webhook_receiver: WebhookReceiver) -> Iterator[WebhookProvider]:
    hook = WebhookProvider(webhook_receiver.url, webhook_receiver.secret, Channel.PDF, timeout=2)
    yield hook
    hook.close()


def test_signed_envelope_is_accepted(provider: WebhookProvider, webhook_receiver: WebhookReceiver) -> None:
    result = provider.send(message())

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert result.provider_message_id == "rcv-m-42"
    (received,) = webhook_receiver.received
    assert received.signature_valid
    assert received.headers["x-ccm-message-id"] == "m-42"
    envelope = json.loads(received.body)
    assert base64.b64decode(envelope["body"]) == PDF
    assert envelope["body_encoding"] == "base64"
    assert envelope["content_type"] == "application/pdf"
    assert envelope["channel"] == "pdf"
    assert envelope["metadata"] == {"template": "invoice"}


def test_a_channel_registered_by_the_service_is_posted(webhook_receiver: WebhookReceiver) -> None:
    hook = WebhookProvider(webhook_receiver.url, webhook_receiver.secret, "fax", name="fax-webhook")
    try:
        result = hook.send(message("fax", b"II*\x00tiff", "image/tiff"))
        refused = hook.send(message(Channel.PDF))
    finally:
        hook.close()
    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert refused.outcome is Outcome.PERMANENT_ERROR
    (received,) = webhook_receiver.received
    assert json.loads(received.body)["channel"] == "fax"


def test_plain_string_channel_matches_the_built_in_constant(provider: WebhookProvider) -> None:
    assert provider.send(message("pdf")).accepted


def test_json_payloads_are_embedded_as_json(webhook_receiver: WebhookReceiver) -> None:
    hook = WebhookProvider(webhook_receiver.url, webhook_receiver.secret, Channel.SMS)
    try:
        payload = json.dumps({"to": "+391234", "body": "ciao"}).encode()
        assert hook.send(message(Channel.SMS, payload, "application/json")).accepted
    finally:
        hook.close()
    envelope = json.loads(webhook_receiver.received[0].body)
    assert envelope["body"] == {"to": "+391234", "body": "ciao"}
    assert envelope["body_encoding"] == "json"


def test_wrong_secret_is_refused_by_the_receiver(webhook_receiver: WebhookReceiver) -> None:
    hook = WebhookProvider(webhook_receiver.url, "not-the-secret", Channel.PDF)
    try:
        result = hook.send(message())
    finally:
        hook.close()
    assert not webhook_receiver.received[0].signature_valid
    assert result.outcome is Outcome.PERMANENT_ERROR  # the receiver answered 400


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (201, Outcome.ACCEPTED),
        (204, Outcome.ACCEPTED),
        (408, Outcome.TRANSIENT_ERROR),
        (429, Outcome.TRANSIENT_ERROR),
        (500, Outcome.TRANSIENT_ERROR),
        (503, Outcome.TRANSIENT_ERROR),
        (401, Outcome.TRANSIENT_ERROR),  # the receiver's configuration, not the message
        (400, Outcome.PERMANENT_ERROR),
        (404, Outcome.PERMANENT_ERROR),
        (422, Outcome.PERMANENT_ERROR),
    ],
)
def test_statuses_are_classified(
    provider: WebhookProvider, webhook_receiver: WebhookReceiver, status: int, expected: Outcome
) -> None:
    webhook_receiver.answer_next(status, b"scripted")

    result = provider.send(message())

    assert result.outcome is expected
    if expected is not Outcome.ACCEPTED:
        assert str(status) in result.detail
    else:
        assert result.provider_message_id == "m-42"  # no id from the receiver: ours stands in


def test_timeout_is_transient(provider: WebhookProvider, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.answer_next(200, hang=3)

    result = provider.send(message())

    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "may have accepted" in result.detail


def test_connection_refused_is_transient() -> None:
    hook = WebhookProvider(f"http://127.0.0.1:{free_port()}/x", "s", Channel.PDF, timeout=2)
    try:
        result = hook.send(message())
    finally:
        hook.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "cannot reach" in result.detail


def test_other_channels_and_bad_settings_are_refused(provider: WebhookProvider) -> None:
    assert provider.send(message(Channel.EMAIL)).outcome is Outcome.PERMANENT_ERROR
    with pytest.raises(ProviderConfigurationError):
        WebhookProvider("ftp://example.org", "s", Channel.PDF)
    with pytest.raises(ProviderConfigurationError):
        WebhookProvider("https://example.org", "", Channel.PDF)
    for channel in ("", "Fax", "fax machine", "x" * 33):
        with pytest.raises(ProviderConfigurationError, match="channel"):
            WebhookProvider("https://example.org", "s", channel)


def test_signature_uses_the_injected_clock(webhook_receiver: WebhookReceiver) -> None:
    hook = WebhookProvider(
        webhook_receiver.url, webhook_receiver.secret, Channel.PDF, clock=lambda: 1_700_000_000
    )
    try:
        hook.send(message())
    finally:
        hook.close()
    received = webhook_receiver.received[0]
    assert received.headers["x-ccm-signature"].startswith("t=1700000000,v1=")
    assert not received.signature_valid  # the receiver's clock says it is years old: a replay


def test_verify_helper() -> None:
    body = b'{"a":1}'
    header = sign_webhook(body, "k", 1000)

    assert verify_webhook_signature(body, header, "k", now=1100)
    assert verify_webhook_signature(body, header, b"k", tolerance=None)
    assert not verify_webhook_signature(body + b" ", header, "k", now=1100)
    assert not verify_webhook_signature(body, header, "other", now=1100)
    assert not verify_webhook_signature(body, header, "k", now=2000)  # too old
    assert not verify_webhook_signature(body, "garbage", "k", now=1100)
    rotated = f"{header},v1={'0' * 64}"
    assert verify_webhook_signature(body, rotated, "k", now=1000)
