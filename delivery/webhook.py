"""Delivery by HTTP webhook: each message POSTed as a signed JSON envelope to a URL the customer runs.

The signature follows Stripe's scheme so receivers can reuse what they know:
`X-CCM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The timestamp is inside the
MAC, so a receiver that checks its age (`verify_webhook_signature(..., tolerance=300)`) refuses replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from delivery.base import (
    DeliveryResult,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    check_channel_name,
)

SIGNATURE_HEADER = "X-CCM-Signature"
MESSAGE_ID_HEADER = "X-CCM-Message-Id"
_TRANSIENT_STATUSES = frozenset({401, 403, 408, 425, 429})  # 401/403: the receiver's configuration


class WebhookProvider:
    """POSTs messages of one channel to `url`; 2xx accepted, 408/429/5xx/network transient, 4xx final."""

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        channel: str,
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        name: str = "webhook",
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ProviderConfigurationError(f"webhook URL must be http(s), not {url!r}")
        if not secret:
            raise ProviderConfigurationError("a webhook needs a signing secret")
        self.name = name
        self.channel = check_channel_name(channel)
        self.url = url
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._clock = clock
        self._client = httpx.Client(
            timeout=timeout, headers=dict(headers or {}), transport=transport, follow_redirects=False
        )

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """One signed POST; the receiver's JSON `id`, if it returns one, becomes the provider message id."""
        if message.channel != self.channel:
            return self._result(
                Outcome.PERMANENT_ERROR, f"{self.name} sends {self.channel}, not {message.channel}"
            )
        body = envelope_bytes(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook(body, self._secret, int(self._clock())),
            MESSAGE_ID_HEADER: message.message_id,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            detail = (
                f"webhook did not answer in time ({type(exc).__name__}); it may have accepted the message"
            )
            return self._result(Outcome.TRANSIENT_ERROR, detail)
        except httpx.HTTPError as exc:
            return self._result(
                Outcome.TRANSIENT_ERROR, f"cannot reach the webhook: {type(exc).__name__}: {exc}"
            )
        return self._outcome(response, message)

    def close(self) -> None:
        """Release the pooled HTTP connections."""
        self._client.close()

    def _outcome(self, response: httpx.Response, message: OutgoingMessage) -> DeliveryResult:
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult(Outcome.ACCEPTED, self.name, _receiver_id(response) or message.message_id)
        detail = f"webhook answered HTTP {status}: {response.text[:200]}".rstrip(": ")
        if status in _TRANSIENT_STATUSES or status >= 500 or status < 400:
            return self._result(Outcome.TRANSIENT_ERROR, detail)
        return self._result(Outcome.PERMANENT_ERROR, detail)

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def envelope(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON object posted: JSON payloads embedded as JSON, anything else as base64."""
    data: dict[str, Any] = {
        "message_id": message.message_id,
        "channel": str(message.channel),
        "recipient": message.recipient,
        "sender": message.sender,
        "content_type": message.content_type,
        "metadata": dict(message.metadata),
    }
    if message.content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data["body"] = json.loads(message.payload)
            data["body_encoding"] = "json"
            return data
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass  # not valid JSON after all: send it as opaque bytes
    data["body"] = base64.b64encode(message.payload).decode("ascii")
    data["body_encoding"] = "base64"
    return data


def envelope_bytes(message: OutgoingMessage) -> bytes:
    """The exact request body: compact, key-sorted UTF-8 JSON (what the signature covers)."""
    return json.dumps(envelope(message), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign_webhook(body: bytes, secret: str | bytes, timestamp: int) -> str:
    """The X-CCM-Signature value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_mac(body, secret, timestamp)}"


def verify_webhook_signature(
    body: bytes,
    header: str,
    secret: str | bytes,
    *,
    tolerance: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """For receivers: True when `header` signs the raw `body` with `secret`, at most `tolerance` s ago."""
    timestamp, candidates = _parse_signature_header(header)
    if timestamp is None or not candidates:
        return False
    if tolerance is not None and abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(body, secret, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def _mac(body: bytes, secret: str | bytes, timestamp: int) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _parse_signature_header(header: str) -> tuple[int | None, list[str]]:
    """`t=...,v1=...[,v1=...]` (several v1 while a secret is rotated); unknown schemes are ignored."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    return timestamp, candidates


def _receiver_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    identifier = data.get("id") if isinstance(data, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None
