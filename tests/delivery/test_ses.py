"""SesProvider against moto's SES v2 on loopback: raw bytes arrive unchanged, errors are classified, IDN
domains go out in punycode and what would need SMTPUTF8 is refused before AWS is called."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from delivery import Channel, Outcome, OutgoingMessage, ProviderConfigurationError, SesProvider
from tests.fixtures.aws import AWS_CREDENTIALS, AwsErrorServer, ScriptedError, moto_raw_emails
from tests.fixtures.smtp import free_port

PAYLOAD = (
    b"From: Shop <shop@ses-test.example>\r\n"
    b"To: anna@example.org\r\n"
    b"Subject: Your invoice\r\n"
    b"Message-ID: <ses-1@ccm.example>\r\n"
    b"X-CCM-Message-Id: m-ses-1\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Dear Anna,\r\n.a line starting with a dot\r\n"
)
IDN_PAYLOAD = PAYLOAD.replace(b"To: anna@example.org", b"To: anna@xn--bcher-kva.example")
# An RFC 6532 message as renderers.mime composes it for a non-ASCII local part: the address is raw UTF-8.
UTF8_PAYLOAD = PAYLOAD.replace(b"To: anna@example.org", "To: josé@bücher.example".encode())


def email(
    sender: str = "shop@ses-test.example", payload: bytes = PAYLOAD, recipient: str = "anna@example.org"
) -> OutgoingMessage:
    return OutgoingMessage(
        f"m-{uuid.uuid4().hex[:8]}", Channel.EMAIL, recipient, sender, payload, "message/rfc822"
    )


@pytest.fixture(scope="module")
def verified_domain(moto_s3_server: str) -> str:
    """moto refuses senders whose identity is not verified; verify the test domain once."""
    client = boto3.client(
        "sesv2",
        endpoint_url=moto_s3_server,
        region_name=AWS_CREDENTIALS["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_email_identity(EmailIdentity="ses-test.example")
    client.create_email_identity(EmailIdentity="xn--strae-oqa.example")  # SES knows an IDN by its A-label
    client.close()
    return "ses-test.example"


@pytest.fixture
def ses(moto_s3_server: str, verified_domain: str) -> Iterator[SesProvider]:
    provider = SesProvider(endpoint_url=moto_s3_server, **AWS_CREDENTIALS)
    yield provider
    provider.close()


def test_raw_message_reaches_ses_unchanged(ses: SesProvider, moto_s3_server: str) -> None:
    result = ses.send(email())

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert result.provider == "ses"
    recorded = moto_raw_emails(moto_s3_server)[result.provider_message_id or ""]
    assert recorded["raw_data"].encode() == PAYLOAD
    assert recorded["source"] == "shop@ses-test.example"
    assert "anna@example.org" in recorded["destinations"]


def test_idn_domains_go_to_ses_in_punycode(ses: SesProvider, moto_s3_server: str) -> None:
    result = ses.send(email("Shop <bounces@Straße.example>", IDN_PAYLOAD, recipient="anna@Bücher.example"))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    recorded = moto_raw_emails(moto_s3_server)[result.provider_message_id or ""]
    assert recorded["source"] == "bounces@xn--strae-oqa.example"  # IDNA 2008, not strasse.example
    assert recorded["destinations"][0] == "anna@xn--bcher-kva.example"
    assert recorded["raw_data"].encode() == IDN_PAYLOAD


@pytest.mark.parametrize(
    ("sender", "recipient", "payload"),
    [
        ("shop@ses-test.example", "josé@bücher.example", UTF8_PAYLOAD),  # a non-ASCII local part
        ("josé@ses-test.example", "anna@example.org", PAYLOAD),  # in the sender too
        ("shop@ses-test.example", "jose@example.org", UTF8_PAYLOAD),  # ASCII envelope, RFC 6532 headers
    ],
)
def test_what_needs_smtputf8_is_refused_permanently_before_calling_ses(
    ses: SesProvider, moto_s3_server: str, sender: str, recipient: str, payload: bytes
) -> None:
    before = set(moto_raw_emails(moto_s3_server))
    result = ses.send(email(sender, payload, recipient=recipient))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert result.detail.startswith("smtputf8_unsupported: ")
    assert result.provider == "ses" and result.provider_message_id is None
    assert not result.recipient_rejected  # the address is fine; SES cannot carry it
    assert set(moto_raw_emails(moto_s3_server)) == before


def test_invalid_idn_domain_is_refused_permanently(ses: SesProvider) -> None:
    result = ses.send(email(recipient="anna@☃.example"))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert result.detail.startswith("invalid_domain: ")


def test_configuration_set_is_passed(moto_s3_server: str, verified_domain: str) -> None:
    provider = SesProvider(endpoint_url=moto_s3_server, configuration_set="ccm-events", **AWS_CREDENTIALS)
    try:
        result = provider.send(email())
    finally:
        provider.close()
    assert result.accepted, result.detail  # moto does not check that the set exists


def test_unverified_sender_is_rejected_permanently(ses: SesProvider) -> None:
    result = ses.send(email(sender="someone@unverified.example"))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "MessageRejected" in result.detail


def test_unreachable_endpoint_is_transient() -> None:
    provider = SesProvider(endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=2, **AWS_CREDENTIALS)
    try:
        result = provider.send(email())
    finally:
        provider.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "cannot reach SES" in result.detail


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, "TooManyRequestsException", Outcome.TRANSIENT_ERROR),
        (400, "ThrottlingException", Outcome.TRANSIENT_ERROR),
        (500, "InternalFailure", Outcome.TRANSIENT_ERROR),
        (503, "ServiceUnavailable", Outcome.TRANSIENT_ERROR),
        (400, "AccountSuspendedException", Outcome.TRANSIENT_ERROR),  # the account, not the message
        (400, "SendingPausedException", Outcome.TRANSIENT_ERROR),
        (400, "MailFromDomainNotVerifiedException", Outcome.TRANSIENT_ERROR),
        (403, "AccessDeniedException", Outcome.TRANSIENT_ERROR),
        (400, "MessageRejected", Outcome.PERMANENT_ERROR),
        (400, "BadRequestException", Outcome.PERMANENT_ERROR),
        (400, "SomethingNewException", Outcome.PERMANENT_ERROR),
    ],
)
def test_aws_errors_are_classified(
    aws_error_server: AwsErrorServer, status: int, code: str, expected: Outcome
) -> None:
    aws_error_server.error = ScriptedError(status, code, "scripted refusal")
    provider = SesProvider(endpoint_url=aws_error_server.endpoint_url, **AWS_CREDENTIALS)
    try:
        result = provider.send(email())
    finally:
        provider.close()
    assert result.outcome is expected
    assert code in result.detail
    assert "scripted refusal" in result.detail
    assert len(aws_error_server.requests) == 1  # no hidden botocore retries


def test_other_channels_and_missing_region_are_refused(ses: SesProvider) -> None:
    sms = OutgoingMessage("s1", Channel.SMS, "+391234", "", b"{}", "application/json")
    assert ses.send(sms).outcome is Outcome.PERMANENT_ERROR
    with pytest.raises(ProviderConfigurationError):
        SesProvider()
