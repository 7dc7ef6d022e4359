"""TwilioSmsProvider against a loopback server speaking Twilio's wire format; signatures and callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator

import pytest

from delivery import (
    Channel,
    Outcome,
    OutgoingMessage,
    ProviderEventType,
    TwilioSmsProvider,
    compute_twilio_signature,
    parse_status_callback,
    verify_twilio_signature,
)
from tests.fixtures.sms_api import FakeTwilioApi
from tests.fixtures.smtp import free_port

CALLBACK_URL = "https://ccm.example/webhooks/twilio/status"


def sms(body: str = "Your code is 1234", to: str = "+393331234567", sender: str = "") -> OutgoingMessage:
    payload = {"to": to, "from": sender, "body": body, "encoding": "GSM-7", "segments": 1}
    return OutgoingMessage(
        message_id="s1",
        channel=Channel.SMS,
        recipient=to,
        sender=sender,
        payload=json.dumps(payload).encode(),
        content_type="application/json",
    )


@pytest.fixture
def provider(twilio_api: FakeTwilioApi) -> Iterator[TwilioSmsProvider]:
    twilio = TwilioSmsProvider(
        twilio_api.account_sid,
        twilio_api.auth_token,
        "+15005550006",
        base_url=twilio_api.base_url,
        status_callback_url=CALLBACK_URL,
        timeout=1.0,
    )
    yield twilio
    twilio.close()


def test_accepted_returns_the_message_sid(provider: TwilioSmsProvider, twilio_api: FakeTwilioApi) -> None:
    result = provider.send(sms("Ciao Anna, il tuo codice è 1234"))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_message_id or "")
    (request,) = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json"
    assert request.auth == (twilio_api.account_sid, twilio_api.auth_token)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": "+393331234567",
        "From": "+15005550006",  # the payload named no sender: the provider's number
        "Body": "Ciao Anna, il tuo codice è 1234",
        "StatusCallback": CALLBACK_URL,
    }


def test_sender_from_the_payload_wins(provider: TwilioSmsProvider, twilio_api: FakeTwilioApi) -> None:
    assert provider.send(sms(sender="CCM Shop")).accepted
    assert twilio_api.requests[0].form["From"] == "CCM Shop"


def test_connection_is_reused(provider: TwilioSmsProvider, twilio_api: FakeTwilioApi) -> None:
    assert all(provider.send(sms()).accepted for _ in range(3))
    assert twilio_api.connections_opened == 1


def test_invalid_number_is_permanent_with_twilio_code(
    provider: TwilioSmsProvider, twilio_api: FakeTwilioApi
) -> None:
    twilio_api.fail_next(status=400, code=21211, message="Invalid 'To' Phone Number")

    result = provider.send(sms())

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "21211" in result.detail
    assert "Invalid 'To' Phone Number" in result.detail


@pytest.mark.parametrize("status", [429, 500, 503])
def test_overload_and_server_errors_are_transient(
    provider: TwilioSmsProvider, twilio_api: FakeTwilioApi, status: int
) -> None:
    twilio_api.fail_next(status=status, code=20429 if status == 429 else None, message="slow down")

    result = provider.send(sms())
    after = provider.send(sms())

    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert str(status) in result.detail
    assert after.accepted


def test_wrong_credentials_are_transient(twilio_api: FakeTwilioApi) -> None:
    twilio = TwilioSmsProvider(twilio_api.account_sid, "wrong", "+15005550006", base_url=twilio_api.base_url)
    try:
        result = twilio.send(sms())
    finally:
        twilio.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "20003" in result.detail


def test_timeout_is_transient(provider: TwilioSmsProvider, twilio_api: FakeTwilioApi) -> None:
    twilio_api.hang_next(3.0)
    started = time.monotonic()

    result = provider.send(sms())

    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "in time" in result.detail
    assert time.monotonic() - started < 2.5


def test_unreachable_api_is_transient() -> None:
    twilio = TwilioSmsProvider(
        "AC" + "0" * 32, "token", "+15005550006", base_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        result = twilio.send(sms())
    finally:
        twilio.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "ConnectError" in result.detail


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"to": "+39333"}', b'{"body": 5}'])
def test_malformed_payload_is_permanent_and_unsent(
    provider: TwilioSmsProvider, twilio_api: FakeTwilioApi, payload: bytes
) -> None:
    message = OutgoingMessage("s1", Channel.SMS, "+39333", "", payload, "application/json")

    assert provider.send(message).outcome is Outcome.PERMANENT_ERROR
    assert twilio_api.requests == []


# --- signatures ---
def test_signature_matches_a_vector_derived_by_hand() -> None:
    url = "https://ccm.example/webhooks/twilio/status?x=1"
    params = {"To": "+393331234567", "MessageStatus": "delivered", "MessageSid": "SM123", "AccountSid": "AC9"}
    # Twilio's documented scheme: URL, then each POST parameter name immediately followed by its value,
    # sorted by name; HMAC-SHA1 keyed with the auth token; base64.
    signed = (
        "https://ccm.example/webhooks/twilio/status?x=1"
        "AccountSidAC9"
        "MessageSidSM123"
        "MessageStatusdelivered"
        "To+393331234567"
    )
    expected = base64.b64encode(hmac.new(b"secret-token", signed.encode(), hashlib.sha1).digest()).decode()

    assert compute_twilio_signature(url, params, "secret-token") == expected
    assert verify_twilio_signature(url, params, expected, "secret-token")


def test_signature_matches_twilios_published_example() -> None:
    # The example in Twilio's security docs and its SDKs' RequestValidator tests.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert compute_twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.mark.parametrize(
    ("url", "params", "token", "signature"),
    [
        ("https://ccm.example/hook", {"A": "1"}, "other-token", None),
        ("https://ccm.example/hook?tampered", {"A": "1"}, "token", None),
        ("https://ccm.example/hook", {"A": "2"}, "token", None),
        ("https://ccm.example/hook", {"A": "1"}, "token", "not a signature ü"),
    ],
)
def test_tampering_fails_verification(
    url: str, params: dict[str, str], token: str, signature: str | None
) -> None:
    good = compute_twilio_signature("https://ccm.example/hook", {"A": "1"}, "token")

    assert not verify_twilio_signature(url, params, signature or good, token)


# --- status callbacks ---
@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("queued", ProviderEventType.QUEUED),
        ("accepted", ProviderEventType.QUEUED),
        ("sending", ProviderEventType.QUEUED),
        ("sent", ProviderEventType.SENT),
        ("delivered", ProviderEventType.DELIVERED),
        ("undelivered", ProviderEventType.UNDELIVERED),
        ("failed", ProviderEventType.FAILED),
    ],
)
def test_status_callback_maps_every_status(status: str, event: ProviderEventType) -> None:
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": status, "AccountSid": "AC1"}

    parsed = parse_status_callback(params)

    assert parsed.type is event
    assert parsed.provider == "twilio"
    assert parsed.provider_message_id == "SM" + "a" * 32
    assert parsed.raw == params


def test_status_callback_keeps_the_error_code() -> None:
    parsed = parse_status_callback(
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30005"}
    )

    assert parsed.type is ProviderEventType.UNDELIVERED
    assert "30005" in parsed.detail


@pytest.mark.parametrize(
    "params",
    [{"MessageSid": "SM1", "MessageStatus": "teleported"}, {"MessageStatus": "delivered"}, {}],
)
def test_status_callback_refuses_what_it_cannot_map(params: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        parse_status_callback(params)
