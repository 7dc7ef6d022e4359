"""SnsSmsProvider against moto's SNS on loopback: the body is published to the number, errors classified."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from delivery import Channel, Outcome, OutgoingMessage, SnsSmsProvider
from tests.fixtures.aws import AWS_CREDENTIALS, AwsErrorServer, ScriptedError, moto_sms
from tests.fixtures.smtp import free_port


def sms(payload: dict[str, object] | bytes, recipient: str = "+14155550100") -> OutgoingMessage:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return OutgoingMessage("m-sms", Channel.SMS, recipient, "", data, "application/json")


BODY = {
    "to": "+14155550123",
    "from": "CCMSHOP",
    "body": "Your code is 123456 \u20ac",
    "encoding": "ucs2",
    "segments": 1,
}


@pytest.fixture
def provider(moto_s3_server: str) -> Iterator[SnsSmsProvider]:
    sns = SnsSmsProvider(endpoint_url=moto_s3_server, **AWS_CREDENTIALS)
    yield sns
    sns.close()


def test_published_sms_is_recorded_by_sns(provider: SnsSmsProvider, moto_s3_server: str) -> None:
    result = provider.send(sms(BODY))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert result.provider == "sns-sms"
    recorded = moto_sms(moto_s3_server)[result.provider_message_id or ""]
    assert recorded["phone_number"] == "+14155550123"
    assert recorded["message"] == "Your code is 123456 \u20ac"


def test_recipient_stands_in_for_a_missing_to(provider: SnsSmsProvider, moto_s3_server: str) -> None:
    result = provider.send(sms({"body": "hello"}, recipient="+14155550199"))

    assert result.accepted, result.detail
    assert moto_sms(moto_s3_server)[result.provider_message_id or ""]["phone_number"] == "+14155550199"


def test_invalid_number_is_permanent(provider: SnsSmsProvider) -> None:
    result = provider.send(sms({"to": "not-a-number", "body": "hi"}))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "InvalidParameter" in result.detail


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"body": ""}', b'{"to": 5, "body": "x"}'])
def test_bad_payload_is_permanent_and_not_sent(provider: SnsSmsProvider, payload: bytes) -> None:
    assert provider.send(sms(payload)).outcome is Outcome.PERMANENT_ERROR


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "Throttled", Outcome.TRANSIENT_ERROR),
        (500, "InternalError", Outcome.TRANSIENT_ERROR),
        (403, "AuthorizationError", Outcome.TRANSIENT_ERROR),
        (400, "InvalidParameter", Outcome.PERMANENT_ERROR),
        (400, "ParameterValueInvalid", Outcome.PERMANENT_ERROR),
    ],
)
def test_sns_errors_are_classified(
    aws_error_server: AwsErrorServer, status: int, code: str, expected: Outcome
) -> None:
    aws_error_server.error = ScriptedError(status, code)
    provider = SnsSmsProvider(endpoint_url=aws_error_server.endpoint_url, **AWS_CREDENTIALS)
    try:
        result = provider.send(sms(BODY))
    finally:
        provider.close()
    assert result.outcome is expected
    assert code in result.detail


def test_unreachable_endpoint_is_transient() -> None:
    provider = SnsSmsProvider(endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=2, **AWS_CREDENTIALS)
    try:
        result = provider.send(sms(BODY))
    finally:
        provider.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR


def test_other_channels_are_refused(provider: SnsSmsProvider) -> None:
    mail = OutgoingMessage("e", Channel.EMAIL, "a@example.org", "b@example.com", b"x", "message/rfc822")
    assert provider.send(mail).outcome is Outcome.PERMANENT_ERROR
