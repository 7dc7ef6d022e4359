"""Signed, URL-safe tokens for everything a customer clicks: tracked links, opens, unsubscribes, documents.

A token carries its own payload (so no lookup table is needed) and an HMAC-SHA256 tag keyed per purpose,
so a click token can never be replayed as an unsubscribe token, and a changed URL never verifies.

The signer is a keyring: secrets by id, one of which signs (`key_id`) while all of them verify, so a key
can be rotated without breaking the links already sent. A token names its key: `<key id>.<body>.<tag>`.
Tokens issued before key ids existed (`<body>.<tag>`) verify with the default key, `CCM_SECRET_KEY`, whose
id is derived from it (`default_key_id`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends

from ccm.dependencies import runtime_part
from ccm.settings import Settings

TAG_BYTES = 16
MAX_TOKEN_LENGTH = 4096
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
"""What a key id may look like: URL-safe, and never a `.` (it separates the parts of a token)."""


class TokenPurpose(StrEnum):
    CLICK = "click"
    OPEN = "open"
    UNSUBSCRIBE = "unsubscribe"
    DOCUMENT = "document"
    WEB_VERSION = "web"
    SESSION = "session"
    PREFERENCES = "preferences"
    CONFIRM = "confirm"
    FEEDBACK = "feedback"


class UnknownTokenKey(KeyError):
    """A key id the keyring holds no secret for."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def default_key_id(secret: str) -> str:
    """The id of the key `secret` (CCM_SECRET_KEY): stable, and revealing nothing usable about it."""
    return "s" + hmac.new(secret.encode(), b"ccm-token-key-id", hashlib.sha256).hexdigest()[:8]


def _purpose_keys(secret: str) -> dict[TokenPurpose, bytes]:
    raw = secret.encode()
    return {p: hmac.new(raw, f"ccm-token:{p.value}".encode(), hashlib.sha256).digest() for p in TokenPurpose}


class TokenSigner:
    """Signs with the key `key_id` (default: the one derived from `secret`); verifies with every key.

    `key_id=None` signs as before key ids existed (no id in the token, the default key), which is how a
    message archived back then is re-rendered.
    """

    def __init__(
        self, secret: str, keys: Mapping[str, str] | None = None, *, key_id: str | None = ""
    ) -> None:
        """`keys`: more secrets by id; `key_id`: the one that signs ("" for the default key)."""
        self.default_key_id = default_key_id(secret)
        self._secret, self._extra = secret, dict(keys or {})
        if self._extra.get(self.default_key_id, secret) != secret:
            raise ValueError(f"token key id {self.default_key_id!r} is reserved for CCM_SECRET_KEY")
        secrets = {self.default_key_id: secret, **self._extra}
        for kid, value in secrets.items():
            if not KEY_ID.fullmatch(kid) or not value:
                raise ValueError(f"token key {kid!r}: ids match {KEY_ID.pattern}, secrets are not empty")
        self._keys = {kid: _purpose_keys(value) for kid, value in secrets.items()}
        self.key_id = self.default_key_id if key_id == "" else key_id
        if self.key_id is not None and self.key_id not in self._keys:
            raise UnknownTokenKey(self.key_id)

    @property
    def key_ids(self) -> list[str]:
        """Every key this signer verifies with."""
        return list(self._keys)

    def signing_with(self, key_id: str | None) -> TokenSigner:
        """The same keyring signing with `key_id` (None: without a key id); `UnknownTokenKey` if absent."""
        return TokenSigner(self._secret, self._extra, key_id=key_id)

    def _tag(self, kid: str, purpose: TokenPurpose, signed: str) -> str:
        digest = hmac.new(self._keys[kid][purpose], signed.encode(), hashlib.sha256).digest()
        return _b64encode(digest[:TAG_BYTES])

    def sign(self, purpose: TokenPurpose, payload: dict[str, Any]) -> str:
        body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        if self.key_id is None:
            return f"{body}.{self._tag(self.default_key_id, purpose, body)}"
        signed = f"{self.key_id}.{body}"
        return f"{signed}.{self._tag(self.key_id, purpose, signed)}"

    def verify(self, purpose: TokenPurpose, token: str) -> dict[str, Any] | None:
        """The payload of a genuine token for `purpose`, or None for anything forged, altered or malformed."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") not in (1, 2):
            return None
        signed, _, tag = token.rpartition(".")
        kid, named, body = signed.rpartition(".")
        kid = kid if named else self.default_key_id  # issued before key ids: the default key
        if kid not in self._keys:
            return None
        if not hmac.compare_digest(tag.encode(), self._tag(kid, purpose, signed).encode()):
            return None
        try:
            payload = json.loads(_b64decode(body))
        except (ValueError, UnicodeDecodeError):
            return None
        return payload if isinstance(payload, dict) else None


def token_signer(settings: Settings) -> TokenSigner:
    """The process's signer: `CCM_SECRET_KEY` plus `CCM_TOKEN_KEYS`, signing with `CCM_TOKEN_KEY_ID`."""
    try:
        return TokenSigner(settings.secret_key, settings.token_keys, key_id=settings.token_key_id)
    except UnknownTokenKey:
        raise ValueError(
            f"CCM_TOKEN_KEY_ID {settings.token_key_id!r} names no key of CCM_TOKEN_KEYS"
        ) from None


TokensDep = Annotated[TokenSigner, Depends(runtime_part("tokens"))]
"""The process's token signer, for route handlers."""
