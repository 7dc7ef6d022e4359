"""Signed, URL-safe tokens for everything a customer clicks: tracked links, opens, unsubscribes, documents.

A token carries its own payload (so no lookup table is needed) and an HMAC-SHA256 tag keyed per purpose,
so a click token can never be replayed as an unsubscribe token, and a changed URL never verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends

from ccm.dependencies import runtime_part

TAG_BYTES = 16
MAX_TOKEN_LENGTH = 4096


class TokenPurpose(StrEnum):
    CLICK = "click"
    OPEN = "open"
    UNSUBSCRIBE = "unsubscribe"
    DOCUMENT = "document"
    WEB_VERSION = "web"
    SESSION = "session"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def _key(self, purpose: TokenPurpose) -> bytes:
        return hmac.new(self._secret, f"ccm-token:{purpose.value}".encode(), hashlib.sha256).digest()

    def _tag(self, purpose: TokenPurpose, body: str) -> str:
        return _b64encode(hmac.new(self._key(purpose), body.encode(), hashlib.sha256).digest()[:TAG_BYTES])

    def sign(self, purpose: TokenPurpose, payload: dict[str, Any]) -> str:
        body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._tag(purpose, body)}"

    def verify(self, purpose: TokenPurpose, token: str) -> dict[str, Any] | None:
        """The payload of a genuine token for `purpose`, or None for anything forged, altered or malformed."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            return None
        body, tag = token.split(".")
        if not hmac.compare_digest(tag.encode(), self._tag(purpose, body).encode()):
            return None
        try:
            payload = json.loads(_b64decode(body))
        except (ValueError, UnicodeDecodeError):
            return None
        return payload if isinstance(payload, dict) else None


TokensDep = Annotated[TokenSigner, Depends(runtime_part("tokens"))]
"""The process's token signer, for route handlers."""
