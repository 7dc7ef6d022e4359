"""DKIM signing (RFC 6376, RFC 8463) of finished RFC 5322 bytes, per sending domain, fast and deterministic.

dkimpy does the header parsing and canonicalisation, the tag list and its folding (the body's parse and
relaxed canonicalisation are done here, faster, to the same bytes); `cryptography` computes the signature
from a key parsed once (dkimpy re-parses the PEM and does RSA in pure Python on every call). RSA PKCS#1
v1.5 and Ed25519 signatures are deterministic, so the result is byte-identical to dkimpy's own (tests keep
it so; dkimpy's version is pinned).

Determinism: dkimpy always writes `t=<now>`, so the same message signed twice differs. The service archives
the *signed* bytes, so signing here is a pure function of (payload, key configuration): `t=` is omitted by
default (it is optional in RFC 6376), or taken from the message's own Date header, or a fixed value.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from email.utils import parseaddr, parsedate_to_datetime
from typing import Literal

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim.canonicalization import (
    CanonicalizationPolicy,
    correct_empty_body,
    strip_trailing_lines,
    strip_trailing_whitespace,
)

DEFAULT_SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
_HEADER_NAME = b"DKIM-Signature"
_CANONICALIZATION = b"relaxed/relaxed"

Timestamp = Literal["omit", "date-header"] | int


class DkimSigner:
    """Signs messages for one domain with one selector and key (RSA or Ed25519, PEM), parsed once."""

    def __init__(
        self,
        domain: str,
        selector: str,
        private_key_pem: bytes | str,
        *,
        headers: Iterable[str] = DEFAULT_SIGNED_HEADERS,
        timestamp: Timestamp = "omit",
        oversign_from: bool = True,
    ) -> None:
        """`timestamp`: "omit" (no t=), "date-header" (t= from the message's Date), or fixed unix seconds."""
        if not domain or not selector:
            raise ValueError("DKIM needs a signing domain and a selector")
        pem = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 1024:
                raise ValueError(f"RSA DKIM keys must have at least 1024 bits, not {key.key_size}")
            self.algorithm = "rsa-sha256"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm = "ed25519-sha256"
        else:
            raise ValueError(f"DKIM keys are RSA or Ed25519, not {type(key).__name__}")
        self._key = key
        self._pem = pem
        self.domain = domain.lower()
        self.selector = selector
        self.headers = tuple(name.lower() for name in headers)
        if "from" not in self.headers:
            raise ValueError("the From header must be signed (RFC 6376 5.4)")
        self.timestamp = timestamp
        self.oversign_from = oversign_from

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its PEM and options (the parsed key does not pickle), so a signer can travel to the
        process that composes the message it signs."""
        return (
            _signer,
            (self.domain, self.selector, self._pem, self.headers, self.timestamp, self.oversign_from),
        )

    def sign(self, payload: bytes) -> bytes:
        """The payload with a DKIM-Signature header in front; the same input always gives the same bytes."""
        return self.signature_header(payload) + payload

    def signature_header(self, payload: bytes) -> bytes:
        """The `DKIM-Signature: ...\\r\\n` header field for `payload`; ValueError when it has no From."""
        headers, body = parse_message(payload)
        present = [name.lower() for name, _ in headers]
        if b"from" not in present:
            raise ValueError("cannot DKIM-sign a message without a From header")
        wanted = {name.encode() for name in self.headers}
        include = [name for name in present if name in wanted]
        if self.oversign_from:
            include.append(b"from")  # an empty extra instance: a From added in transit breaks the signature
        canon = CanonicalizationPolicy.from_c_value(_CANONICALIZATION)
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        fields = self._fields(include, body_hash, headers)
        return _HEADER_NAME + b": " + self._signed_value(fields, include, canon, headers)

    def dns_record(self) -> str:
        """The TXT record to publish at `<selector>._domainkey.<domain>`."""
        public = self._key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"

    # internals (these follow dkimpy's DKIM.sign and DKIM.gen_header, with the signature from cryptography)
    def _fields(
        self, include: list[bytes], body_hash: bytes, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        domain = self.domain.encode()
        fields = [
            (b"v", b"1"),
            (b"a", self.algorithm.encode()),
            (b"c", _CANONICALIZATION),
            (b"d", domain),
            (b"i", b"@" + domain),
            (b"q", b"dns/txt"),
            (b"s", self.selector.encode()),
        ]
        if (timestamp := self._timestamp(headers)) is not None:
            fields.append((b"t", str(timestamp).encode()))
        # b= is a placeholder long enough to fold onto its own line, as dkimpy does
        return [*fields, (b"h", b" : ".join(include)), (b"bh", body_hash), (b"b", b"0" * 60)]

    def _timestamp(self, headers: list[tuple[bytes, bytes]]) -> int | None:
        if isinstance(self.timestamp, int):
            return self.timestamp
        if self.timestamp != "date-header":
            return None
        for name, value in headers:
            if name.lower() == b"date":
                try:
                    return int(parsedate_to_datetime(value.decode("ascii", "replace").strip()).timestamp())
                except (TypeError, ValueError):
                    return None
        return None

    def _signed_value(
        self,
        fields: list[tuple[bytes, bytes]],
        include: list[bytes],
        canon: CanonicalizationPolicy,
        headers: list[tuple[bytes, bytes]],
    ) -> bytes:
        unsigned = dkim.fold(
            b"; ".join(b"=".join(f) for f in fields), namelen=len(_HEADER_NAME), linesep=b"\r\n"
        )
        unsigned = dkim.RE_BTAG.sub(b"\\1", unsigned)
        hasher = hashlib.sha256()
        dkim.hash_headers(
            hasher,
            canon,
            canon.canonicalize_headers(headers),
            include,
            (_HEADER_NAME, b" " + unsigned),
            dict(fields),
        )
        fields[-1] = (b"b", base64.b64encode(self._signature(hasher.digest())))
        value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
        return bytes(dkim.fold(value, namelen=len(_HEADER_NAME), linesep=b"\r\n"))

    def _signature(self, digest: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        assert isinstance(self._key, ed25519.Ed25519PrivateKey)
        return self._key.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the canonical headers


def parse_message(payload: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """dkimpy's `rfc822_parse`, which splits and rejoins every line of the body with a regular expression
    (a quarter of a signature's time on a 30 KB email): when every line ends in CRLF, as composed messages'
    do, the body is the bytes after the first empty line as they are, and only the header block is parsed."""
    end = payload.find(b"\r\n\r\n")
    if end <= 0 or payload.startswith(b"\r\n") or payload.count(b"\n") != payload.count(b"\r\n"):
        headers, body = dkim.rfc822_parse(payload)
    else:
        headers, _ = dkim.rfc822_parse(payload[: end + 4])
        body = payload[end + 4 :]
    return [(name, value) for name, value in headers], body


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4 relaxed body canonicalisation, byte-identical to dkimpy's, without its regular
    expressions where the body shows no need: runs of spaces and tabs collapse by plain replacement."""
    if b" \r\n" in body or b"\t\r\n" in body:
        body = strip_trailing_whitespace(body)
    body = body.replace(b"\t", b" ")
    while b"  " in body:
        body = body.replace(b"  ", b" ")
    canonical: bytes = correct_empty_body(strip_trailing_lines(body))
    return canonical


@functools.lru_cache(maxsize=64)
def _signer(
    domain: str,
    selector: str,
    pem: bytes,
    headers: tuple[str, ...],
    timestamp: Timestamp,
    oversign_from: bool,
) -> DkimSigner:
    """An unpickled signer, parsed once per process: loading an RSA key checks it (~40 ms for 2048 bits),
    and a render process receives the signer with every message it composes."""
    return DkimSigner(
        domain, selector, pem, headers=headers, timestamp=timestamp, oversign_from=oversign_from
    )


class DkimKeyring:
    """The signers of every sending domain; picks one by the domain of the message's From address."""

    def __init__(self, signers: Iterable[DkimSigner]) -> None:
        self._signers: dict[str, list[DkimSigner]] = {}
        for signer in signers:
            self._signers.setdefault(signer.domain, []).append(signer)

    def signers_for(self, domain: str) -> list[DkimSigner]:
        """Signers for `domain`, else for its closest parent domain (mail.example.com -> example.com)."""
        labels = domain.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            if found := self._signers.get(".".join(labels[start:])):
                return found
        return []

    def sign(self, payload: bytes) -> bytes:
        """Sign with every key of the From domain (RSA and Ed25519 side by side); unchanged when none."""
        signers = self.signers_for(_from_domain(payload))
        headers = b"".join(signer.signature_header(payload) for signer in signers)
        return headers + payload


def _from_domain(payload: bytes) -> str:
    headers, _ = parse_message(payload)
    for name, value in headers:
        if name.lower() == b"from":
            address = parseaddr(value.decode("utf-8", "replace").strip())[1]
            return address.rpartition("@")[2]
    return ""
