"""SNS signature verification (v1 SHA1, v2 SHA256) and SES event parsing, with a certificate we make;
certificates only from SNS hosts of real-shaped regions, and a failed download not repeated for a while."""

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
    """Plays SNS: a key, its self-signed certificate, and a fetcher that counts the downloads (and fails
    while `down`)."""

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
        self.down = False

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if self.down:
            raise OSError("connection refused")
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
    signer.down = False
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
        "https://sns.attacker-chosen.amazonaws.com/cert.pem",
        "https://sns.eu.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.s3.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.cn/cert.pem",
        "https://sns.cn-north-1.amazonaws.com.cn.evil.example/cert.pem",
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


@pytest.mark.parametrize(
    "host",
    [
        "sns.eu-west-1.amazonaws.com",
        "sns.ap-southeast-2.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
        "sns.cn-northwest-1.amazonaws.com.cn",
    ],
)
def test_sns_hosts_of_known_regions_are_allowed(host: str) -> None:
    check_signing_cert_url(f"https://{host}/SimpleNotificationService-x.pem")


def test_a_failed_certificate_download_is_not_repeated_for_a_while(signer: Signer) -> None:
    now = [1000.0]
    verifier = SnsMessageVerifier(fetcher=signer.fetch, failure_ttl=300, clock=lambda: now[0])
    signed = signer.sign(notification(ses_bounce()))
    signer.fetched.clear()
    signer.down = True

    for _ in range(3):
        with pytest.raises(SnsVerificationError, match="cannot fetch"):
            verifier.verify(signed)
    assert signer.fetched == [CERT_URL]

    signer.down = False
    now[0] += 299
    with pytest.raises(SnsVerificationError, match="retried after 300 s"):
        verifier.verify(signed)
    now[0] += 2
    assert verifier.verify(signed).type == "Notification"
    verifier.verify(signed)
    assert signer.fetched == [CERT_URL, CERT_URL]


def test_a_certificate_that_is_not_one_is_a_failure_too(signer: Signer) -> None:
    fetched: list[str] = []

    def not_a_certificate(url: str) -> bytes:
        fetched.append(url)
        return b"<html>captive portal</html>"

    verifier = SnsMessageVerifier(fetcher=not_a_certificate)
    signed = signer.sign(notification(ses_bounce()))
    for _ in range(2):
        with pytest.raises(SnsVerificationError, match="not a PEM certificate"):
            verifier.verify(signed)
    assert fetched == [CERT_URL]


@pytest.mark.parametrize("topics", [["arn:aws:sns:eu-west-1:1:mine"], []])
def test_unknown_topic_is_refused_without_fetching(signer: Signer, topics: list[str]) -> None:
    signer.fetched.clear()
    verifier = SnsMessageVerifier(fetcher=signer.fetch, topic_arns=topics)

    with pytest.raises(SnsVerificationError, match="topic"):
        verifier.verify(signer.sign(notification(ses_bounce())))
    assert signer.fetched == []


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
