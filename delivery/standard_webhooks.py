"""Standard Webhooks signatures (standardwebhooks.com): one scheme for the webhooks we send and receive.

A message is signed as `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under the secret's
bytes (`whsec_` + base64); `webhook-signature` carries space-separated `v1,<base64>` entries, so a receiver
accepts any of them while a secret is being rotated. The timestamp bounds replays to `tolerance`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A message whose headers or signature do not verify; the text says which part failed."""


def generate_secret() -> str:
    """A fresh `whsec_` secret of 24 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key an HMAC uses: the base64 after `whsec_`; a malformed secret is refused, never guessed."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureError("the secret is not whsec_ followed by base64") from error
    if not key:
        raise SignatureError("the secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str | Sequence[str], msg_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers a sender adds to a POST of `body`.

    Several secrets give one signature each, space-separated: while a secret is rotated the receiver may still
    hold the old one, and accepts the message as soon as any signature verifies.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise SignatureError("no secret to sign with")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": " ".join(sign(key, msg_id, stamp, body) for key in keys),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check a received message; returns its `webhook-id` or raises `SignatureError` naming the fault."""
    msg_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("webhook-timestamp is outside the tolerance (stale or from the future)")
    expected = sign(secret, msg_id, timestamp, body).encode()
    for candidate in _header(headers, "webhook-signature").split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise SignatureError("no v1 signature in webhook-signature matches")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise SignatureError(f"missing {name} header")
    return value
