"""SNS signature verification (v1 SHA1, v2 SHA256) and SES event parsing, with a certificate we make."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from delivery import (
    ProviderEventType,
    SnsMessageVerifier,
    SnsVerificationError,
    canonical_string,
    check_signing_cert_url,
    parse_ses_event,
    ses_events_from_sns,
)

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ccm-ses-events"


class Signer:
    """Plays SNS: a key, its self-signed certificate, and a fetcher that counts the downloads."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.cert_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.cert_pem

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        message = {
            **message,
            "SignatureVersion": version,
            "SigningCertURL": message.get("SigningCertURL", CERT_URL),
        }
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(canonical_string(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


@pytest.fixture
def verifier(signer: Signer) -> SnsMessageVerifier:
    signer.fetched.clear()
    return SnsMessageVerifier(fetcher=signer.fetch)


def ses_bounce(bounce_type: str = "Permanent") -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "nobody@example.org",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-03-03T10:00:05.000Z",
            "feedbackId": "0100018e-feedback",
        },
        "mail": {
            "timestamp": "2026-03-03T10:00:00.000Z",
            "source": "shop@ccm.example",
            "messageId": "0100018e-ses-message-id-000000",
            "destination": ["nobody@example.org"],
        },
    }


def notification(
    event: dict[str, Any], subject: str | None = "Amazon SES Email Event Notification"
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(event),
        "Timestamp": "2026-03-03T10:00:06.000Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }
    if subject is not None:
        message["Subject"] = subject
    return message


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", ["Amazon SES Email Event Notification", None])
def test_signed_notification_is_verified(
    signer: Signer, verifier: SnsMessageVerifier, version: str, subject: str | None
) -> None:
    verified = verifier.verify(signer.sign(notification(ses_bounce(), subject), version))

    assert verified.type == "Notification"
    assert verified.topic_arn == TOPIC
    assert json.loads(verified.message)["mail"]["messageId"] == "0100018e-ses-message-id-000000"


def test_certificate_is_fetched_once(signer: Signer, verifier: SnsMessageVerifier) -> None:
    for _ in range(3):
        verifier.verify(signer.sign(notification(ses_bounce())))

    assert signer.fetched == [CERT_URL]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Message", '{"notificationType": "Delivery"}'),
        ("TopicArn", "arn:aws:sns:eu-west-1:1:other"),
        ("Subject", "x"),
    ],
)
def test_tampered_message_is_rejected(
    signer: Signer, verifier: SnsMessageVerifier, field: str, value: str
) -> None:
    signed = signer.sign(notification(ses_bounce()))

    with pytest.raises(SnsVerificationError, match="does not match"):
        verifier.verify({**signed, field: value})


def test_downgraded_signature_version_is_rejected(signer: Signer, verifier: SnsMessageVerifier) -> None:
    signed = signer.sign(notification(ses_bounce()), "2")

    with pytest.raises(SnsVerificationError):
        verifier.verify({**signed, "SignatureVersion": "1"})
    with pytest.raises(SnsVerificationError, match="SignatureVersion"):
        verifier.verify({**signed, "SignatureVersion": "3"})


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/cert.pem",
        "https://s3.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://sns..amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.pem?x=.pem",
        "",
    ],
)
def test_foreign_certificate_url_is_refused_without_fetching(
    signer: Signer, verifier: SnsMessageVerifier, url: str
) -> None:
    signed = signer.sign({**notification(ses_bounce()), "SigningCertURL": url})

    with pytest.raises(SnsVerificationError):
        verifier.verify(signed)
    assert signer.fetched == []


def test_china_region_host_is_allowed() -> None:
    check_signing_cert_url("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem")


def test_unknown_topic_is_refused(signer: Signer) -> None:
    verifier = SnsMessageVerifier(fetcher=signer.fetch, topic_arns=["arn:aws:sns:eu-west-1:1:mine"])

    with pytest.raises(SnsVerificationError, match="topic"):
        verifier.verify(signer.sign(notification(ses_bounce())))


def test_subscription_confirmation(signer: Signer, verifier: SnsMessageVerifier) -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37f",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic ...",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f",
        "Timestamp": "2026-03-03T09:00:00.000Z",
    }
    body = json.dumps(signer.sign(confirmation)).encode()

    verified = verifier.verify_body(body)

    assert verified.subscribe_url == confirmation["SubscribeURL"]
    assert ses_events_from_sns(body, verifier) == []
    with pytest.raises(SnsVerificationError):
        verifier.verify({**signer.sign(confirmation), "Token": "other"})


@pytest.mark.parametrize(
    ("bounce_type", "flag"), [("Permanent", "hard"), ("Transient", "soft"), ("Undetermined", "soft")]
)
def test_ses_bounce_events(signer: Signer, verifier: SnsMessageVerifier, bounce_type: str, flag: str) -> None:
    body = json.dumps(signer.sign(notification(ses_bounce(bounce_type)))).encode()

    (event,) = ses_events_from_sns(body, verifier)

    assert event.type is ProviderEventType.BOUNCED
    assert event.provider == "ses"
    assert event.provider_message_id == "0100018e-ses-message-id-000000"
    assert event.detail.startswith(f"{flag} {bounce_type}/General nobody@example.org")
    assert event.raw["bounce"]["feedbackId"] == "0100018e-feedback"


def test_other_ses_events() -> None:
    mail = {"messageId": "mid-1", "destination": ["a@example.org", "b@example.org"]}
    complaint = {
        "eventType": "Complaint",
        "mail": mail,
        "complaint": {
            "complainedRecipients": [{"emailAddress": "a@example.org"}],
            "complaintFeedbackType": "abuse",
        },
    }
    delivery = {
        "notificationType": "Delivery",
        "mail": mail,
        "delivery": {"recipients": ["a@example.org", "b@example.org"], "smtpResponse": "250 ok"},
    }

    assert [(e.type, e.detail) for e in parse_ses_event(complaint)] == [
        (ProviderEventType.COMPLAINED, "complaint abuse a@example.org")
    ]
    assert [e.type for e in parse_ses_event(json.dumps(delivery))] == [ProviderEventType.DELIVERED] * 2
    assert parse_ses_event({"eventType": "Send", "mail": mail})[0].type is ProviderEventType.SENT
    reject = parse_ses_event({"eventType": "Reject", "mail": mail, "reject": {"reason": "Bad content"}})
    assert (reject[0].type, reject[0].detail) == (ProviderEventType.FAILED, "Reject: Bad content")
    assert parse_ses_event({"eventType": "Open", "mail": mail}) == []
    assert parse_ses_event({"eventType": "DeliveryDelay", "mail": mail}) == []
    with pytest.raises(ValueError, match="unknown"):
        parse_ses_event({"eventType": "Teleport", "mail": mail})
    with pytest.raises(ValueError, match="messageId"):
        parse_ses_event({"eventType": "Send"})


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"Type": "Notification"}', b'{"SignatureVersion": "2"}']
)
def test_malformed_bodies_are_verification_errors(verifier: SnsMessageVerifier, body: bytes) -> None:
    with pytest.raises(SnsVerificationError):
        verifier.verify_body(body)
