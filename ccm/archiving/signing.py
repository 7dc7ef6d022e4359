"""The service's Ed25519 key: it signs chain checkpoints so a rewritten chain cannot pass for the real one."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ccm.archiving.crypto import decode_key


class CheckpointSigner:
    """Signs with the private key from settings; publishes the public key and its fingerprint."""

    def __init__(self, private_key_b64: str) -> None:
        seed = decode_key(private_key_b64, name="CCM_ARCHIVE_SIGNING_KEY")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.fingerprint = hashlib.sha256(self.public_key).hexdigest()

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode("ascii")

    @property
    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode("ascii")


def signature_valid(public_key: bytes, message: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` is an Ed25519 signature of `message` by `public_key`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True
