"""Inbound SES events delivered by Amazon SNS: the SNS signature checked first, then the SES event read.

Verification follows AWS's documented procedure: the signing certificate URL must be HTTPS on
`sns.<region>.amazonaws.com` (`.amazonaws.com.cn` for the China regions) with a `.pem` path, where the region
has the shape of a real one (`eu-west-1`, `us-gov-west-1`), which is checked *before* anything is fetched;
the certificate comes through an injectable fetcher and is cached, and so is a failure to fetch it (for
`failure_ttl` seconds), so a flood of messages naming a dead URL costs one download, not one each; the
signature (version 1: SHA1withRSA, version 2: SHA256withRSA) covers the canonical "Key\\nValue\\n" string of
the fields SNS lists for each message type. Fetching blocks: async callers run `verify` in a thread.

SES events (both the classic `notificationType` notifications and configuration-set `eventType` events):

| SES event                      | Event      | detail starts with |
|--------------------------------|------------|--------------------|
| Bounce, bounceType Permanent   | BOUNCED    | hard               |
| Bounce, Transient/Undetermined | BOUNCED    | soft               |
| Complaint                      | COMPLAINED | complaint          |
| Delivery                       | DELIVERED  | delivered          |
| Send                           | SENT       | sent               |
| Reject, Rendering Failure      | FAILED     | reason             |
| DeliveryDelay, Open, Click, Subscription | (none: not a delivery outcome) |
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from delivery.base import ProviderEvent, ProviderEventType

CertificateFetcher = Callable[[str], bytes]
_T = TypeVar("_T")

SNS_HOST = re.compile(
    r"sns\.(?:[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}\.amazonaws\.com|cn-[a-z]+-\d{1,2}\.amazonaws\.com\.cn)"
)
"""`sns.<region>.amazonaws.com` for a region shaped like AWS's (`eu-west-1`, `us-gov-east-1`), and
`sns.cn-<area>-<n>.amazonaws.com.cn` for the China regions: a host nobody else can serve."""

_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_OPTIONAL_FIELDS = frozenset({"Subject"})
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_IGNORED_SES_EVENTS = frozenset({"DeliveryDelay", "Open", "Click", "Subscription"})


class SnsVerificationError(ValueError):
    """The message is not provably from SNS: refuse it (HTTP 403) and do not act on its content."""


@dataclass(frozen=True, slots=True)
class SnsMessage:
    """A verified SNS message: its type, ids and the (still JSON-encoded) `Message` it carries."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subscribe_url: str | None = None


def is_sns_host(host: str) -> bool:
    """True for SNS's own hosts in a known-shaped region (`SNS_HOST`), the only ones we fetch from."""
    return SNS_HOST.fullmatch(host.lower()) is not None


def check_signing_cert_url(url: str) -> None:
    """Refuse any certificate URL that is not HTTPS on an SNS host with a .pem path (before fetching it)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise SnsVerificationError(f"SigningCertURL must be https: {url!r}")
    if parts.username or parts.password or parts.port is not None or parts.query or parts.fragment:
        raise SnsVerificationError(f"SigningCertURL has unexpected parts: {url!r}")
    if not is_sns_host(parts.hostname or ""):
        raise SnsVerificationError(f"SigningCertURL host is not an SNS host: {parts.hostname!r}")
    if not parts.path.endswith(".pem"):
        raise SnsVerificationError(f"SigningCertURL path is not a .pem file: {parts.path!r}")


def canonical_string(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signed: "Name\\nValue\\n" for each signed field of the message type, in order."""
    fields = _SIGNED_FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise SnsVerificationError(f"unknown SNS message Type {message.get('Type')!r}")
    out = []
    for name in fields:
        value = message.get(name)
        if value is None and name in _OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise SnsVerificationError(f"SNS {message.get('Type')} lacks the string field {name}")
        out.append(f"{name}\n{value}\n")
    return "".join(out).encode("utf-8")


def fetch_certificate(url: str, *, timeout: float = 5.0) -> bytes:
    """The default fetcher: GET the PEM over HTTPS, no redirects; raises on anything but 200."""
    response = httpx.get(url, timeout=timeout, follow_redirects=False)
    response.raise_for_status()
    return response.content


class SnsMessageVerifier:
    """Verifies SNS messages; signing certificates are fetched once per URL and cached, and a URL that
    failed is not fetched again for `failure_ttl` seconds (thread-safe)."""

    def __init__(
        self,
        *,
        fetcher: CertificateFetcher = fetch_certificate,
        topic_arns: Collection[str] | None = None,
        cache_size: int = 32,
        failure_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`topic_arns`, when given, lists the only topics whose messages are accepted (empty: none)."""
        self._fetcher = fetcher
        self._topic_arns = frozenset(topic_arns) if topic_arns is not None else None
        self._cache: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._failures: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._cache_size = cache_size
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._lock = threading.Lock()

    def verify(self, message: Mapping[str, Any]) -> SnsMessage:
        """The message, once its signature checks out; SnsVerificationError (a ValueError) otherwise."""
        algorithm = _HASHES.get(str(message.get("SignatureVersion")))
        if algorithm is None:
            raise SnsVerificationError(f"unsupported SignatureVersion {message.get('SignatureVersion')!r}")
        if self._topic_arns is not None and message.get("TopicArn") not in self._topic_arns:
            raise SnsVerificationError(f"messages from topic {message.get('TopicArn')!r} are not accepted")
        signed = canonical_string(message)
        cert_url = str(message.get("SigningCertURL") or "")
        check_signing_cert_url(cert_url)
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except binascii.Error as exc:
            raise SnsVerificationError("Signature is not base64") from exc
        try:
            self._public_key(cert_url).verify(signature, signed, padding.PKCS1v15(), algorithm())
        except InvalidSignature as exc:
            raise SnsVerificationError("SNS signature does not match the message") from exc
        return SnsMessage(
            type=str(message["Type"]),
            message_id=str(message["MessageId"]),
            topic_arn=str(message["TopicArn"]),
            message=str(message["Message"]),
            timestamp=str(message["Timestamp"]),
            subscribe_url=_subscribe_url(message),
        )

    def verify_body(self, body: bytes) -> SnsMessage:
        """Verify the raw HTTP body SNS POSTed (JSON)."""
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnsVerificationError(f"SNS body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SnsVerificationError("SNS body is not a JSON object")
        return self.verify(data)

    def _public_key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            if (cached := self._cache.get(url)) is not None:
                self._cache.move_to_end(url)
                return cached
            retry_at, reason = self._failures.get(url, (0.0, ""))
            if self._clock() < retry_at:
                raise SnsVerificationError(
                    f"{reason} (a failed URL is retried after {self._failure_ttl:.0f} s)"
                )
        try:
            key = self._load(url)
        except SnsVerificationError as exc:
            with self._lock:
                _keep(self._failures, url, (self._clock() + self._failure_ttl, str(exc)), self._cache_size)
            raise
        with self._lock:
            self._failures.pop(url, None)
            _keep(self._cache, url, key, self._cache_size)
        return key

    def _load(self, url: str) -> rsa.RSAPublicKey:
        """Fetch and read the certificate; every way this can fail is an SnsVerificationError."""
        try:
            certificate = x509.load_pem_x509_certificate(self._fetcher(url))
        except ValueError as exc:
            raise SnsVerificationError(f"signing certificate at {url} is not a PEM certificate") from exc
        except Exception as exc:  # the fetcher's network errors: we cannot verify, so refuse
            raise SnsVerificationError(f"cannot fetch the signing certificate {url}: {exc}") from exc
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsVerificationError(f"signing certificate at {url} does not carry an RSA key")
        return key


def _keep(cache: OrderedDict[str, _T], key: str, value: _T, size: int) -> None:
    """Put `value` in a bounded cache, dropping the oldest entries beyond `size`."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def _subscribe_url(message: Mapping[str, Any]) -> str | None:
    """The SubscribeURL to GET to confirm a subscription, when it points at SNS itself (else None)."""
    url = message.get("SubscribeURL")
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme == "https" and is_sns_host(parts.hostname or "") else None


def parse_ses_event(message: str | Mapping[str, Any], provider: str = "ses") -> list[ProviderEvent]:
    """An SES event (the `Message` of a verified SNS notification) as events, one per recipient."""
    data = json.loads(message) if isinstance(message, str) else dict(message)
    if not isinstance(data, dict):
        raise ValueError("SES event is not a JSON object")
    kind = data.get("eventType") or data.get("notificationType")
    mail = data.get("mail")
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("SES event without mail.messageId")
    if kind in _IGNORED_SES_EVENTS:
        return []
    reader = _SES_READERS.get(str(kind))
    if reader is None:
        raise ValueError(f"unknown SES event type {kind!r}")
    return [ProviderEvent(provider, message_id, type_, detail, data) for type_, detail in reader(data)]


def ses_events_from_sns(
    body: bytes, verifier: SnsMessageVerifier, provider: str = "ses"
) -> list[ProviderEvent]:
    """Verify an SNS POST and read the SES event it carries; confirmations give no events."""
    sns = verifier.verify_body(body)
    if sns.type != "Notification":
        return []
    return parse_ses_event(sns.message, provider)


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = data.get(key)
    return section if isinstance(section, dict) else {}


def _records(data: Mapping[str, Any], key: str, field: str) -> list[Mapping[str, Any]]:
    items = _section(data, key).get(field)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _bounce(data: Mapping[str, Any]) -> list[tuple[ProviderEventType, str]]:
    bounce = _section(data, "bounce")
    bounce_type = str(bounce.get("bounceType") or "Undetermined")
    flag = "hard" if bounce_type == "Permanent" else "soft"
    kind = f"{bounce_type}/{bounce.get('bounceSubType') or 'General'}"
    out = []
    for recipient in _records(data, "bounce", "bouncedRecipients") or [{}]:
        address = recipient.get("emailAddress") or "?"
        diagnostic = recipient.get("diagnosticCode") or recipient.get("status") or ""
        out.append((ProviderEventType.BOUNCED, f"{flag} {kind} {address}: {diagnostic}".rstrip(": ")))
    return out


def _complaint(data: Mapping[str, Any]) -> list[tuple[ProviderEventType, str]]:
    complaint = _section(data, "complaint")
    feedback = complaint.get("complaintFeedbackType") or "unspecified"
    recipients = _records(data, "complaint", "complainedRecipients") or [{}]
    return [
        (ProviderEventType.COMPLAINED, f"complaint {feedback} {r.get('emailAddress') or '?'}")
        for r in recipients
    ]


def _delivery(data: Mapping[str, Any]) -> list[tuple[ProviderEventType, str]]:
    delivery = _section(data, "delivery")
    recipients = delivery.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        recipients = ["?"]
    response = delivery.get("smtpResponse") or ""
    return [(ProviderEventType.DELIVERED, f"delivered {r}: {response}".rstrip(": ")) for r in recipients]


def _send(data: Mapping[str, Any]) -> list[tuple[ProviderEventType, str]]:
    return [(ProviderEventType.SENT, "sent")]


def _reject(data: Mapping[str, Any]) -> list[tuple[ProviderEventType, str]]:
    reject = _section(data, "reject") or _section(data, "failure")
    reason = reject.get("reason") or reject.get("errorMessage")
    return [(ProviderEventType.FAILED, f"{data.get('eventType') or 'Reject'}: {reason or 'no reason given'}")]


_SES_READERS: dict[str, Callable[[Mapping[str, Any]], list[tuple[ProviderEventType, str]]]] = {
    "Bounce": _bounce,
    "Complaint": _complaint,
    "Delivery": _delivery,
    "Send": _send,
    "Reject": _reject,
    "Rendering Failure": _reject,
}
