"""DkimSigner: byte-identical to plain dkimpy, verified by dkimpy, deterministic, per-domain keyring."""

from __future__ import annotations

import base64
import pickle
import re
from unittest import mock

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from delivery import DEFAULT_SIGNED_HEADERS, DkimKeyring, DkimSigner

MESSAGE = (
    b"From: Shop <shop@example.com>\r\n"
    b"To: anna@example.org\r\n"
    b"Subject: Your   invoice\r\n"
    b"Date: Tue, 03 Mar 2026 10:00:00 +0000\r\n"
    b"Message-ID: <m1@ccm.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"List-Unsubscribe: <https://ccm.example/u/abc>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"X-Not-Signed: x\r\n"
    b"\r\n"
    b"Dear Anna,  \r\n\r\nthe total is 12 \xe2\x82\xac.\r\n\r\n\r\n"
)
SIGNED_NAMES = [n.encode() for n in DEFAULT_SIGNED_HEADERS] + [b"from"]
FIXED_TIME = 1_772_000_000


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def dns_for(*signers: DkimSigner) -> object:
    """dkimpy's dnsfunc: serve each signer's TXT record at <selector>._domainkey.<domain>."""
    records = {f"{s.selector}._domainkey.{s.domain}.".encode(): s.dns_record().encode() for s in signers}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)

    return lookup


def plain_dkimpy(private_key: bytes, selector: bytes, algorithm: bytes = b"rsa-sha256") -> bytes:
    with mock.patch.object(dkim.time, "time", return_value=FIXED_TIME):  # dkimpy always writes t=now
        return bytes(
            dkim.sign(
                MESSAGE,
                selector,
                b"example.com",
                private_key,
                signature_algorithm=algorithm,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=SIGNED_NAMES,
            )
        )


def test_rsa_fast_path_is_byte_identical_to_dkimpy(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = DkimSigner("example.com", "s2026", pem(rsa_key), timestamp=FIXED_TIME)

    assert signer.signature_header(MESSAGE) == plain_dkimpy(pem(rsa_key), b"s2026")


def test_ed25519_fast_path_is_byte_identical_to_dkimpy(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = DkimSigner("example.com", "ed2026", pem(ed_key), timestamp=FIXED_TIME)
    seed = base64.b64encode(
        ed_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    )

    assert signer.signature_header(MESSAGE) == plain_dkimpy(seed, b"ed2026", b"ed25519-sha256")


@pytest.mark.parametrize("timestamp", ["omit", "date-header", FIXED_TIME])
def test_dkimpy_verifies_both_algorithms(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey, timestamp: object
) -> None:
    signers = [
        DkimSigner("example.com", "s2026", pem(rsa_key), timestamp=timestamp),  # type: ignore[arg-type]
        DkimSigner("example.com", "ed2026", pem(ed_key), timestamp=timestamp),  # type: ignore[arg-type]
    ]
    signed = DkimKeyring(signers).sign(MESSAGE)

    assert signed.endswith(MESSAGE)
    assert signed.count(b"DKIM-Signature:") == 2
    verifier = dkim.DKIM(signed)
    assert verifier.verify(idx=0, dnsfunc=dns_for(*signers))
    assert verifier.verify(idx=1, dnsfunc=dns_for(*signers))


def test_signing_is_deterministic_and_omits_t_by_default(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = DkimSigner("example.com", "s2026", pem(rsa_key))

    first = signer.sign(MESSAGE)

    assert first == DkimSigner("example.com", "s2026", pem(rsa_key)).sign(MESSAGE)
    assert (
        re.search(rb"[;\s]t=", DkimSigner("example.com", "s2026", pem(rsa_key)).signature_header(MESSAGE))
        is None
    )
    date_signer = DkimSigner("example.com", "s2026", pem(rsa_key), timestamp="date-header")
    assert b"t=1772532000;" in date_signer.signature_header(MESSAGE)  # Tue, 03 Mar 2026 10:00:00 +0000


def test_tampering_breaks_the_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = DkimSigner("example.com", "s2026", pem(rsa_key))
    signed = signer.sign(MESSAGE)
    lookup = dns_for(signer)

    assert dkim.verify(signed, dnsfunc=lookup)
    assert not dkim.verify(signed.replace(b"12 \xe2\x82\xac", b"99 \xe2\x82\xac"), dnsfunc=lookup)
    assert not dkim.verify(signed.replace(b"Your   invoice", b"Your refund"), dnsfunc=lookup)
    assert not dkim.verify(b"From: evil@example.net\r\n" + signed, dnsfunc=lookup)  # From is over-signed
    assert dkim.verify(b"Received: by relay\r\n" + signed, dnsfunc=lookup)  # unsigned headers may be added
    relaxed = signed.replace(b"Your   invoice", b"Your invoice")  # relaxed canonicalisation tolerates it
    assert dkim.verify(relaxed, dnsfunc=lookup)


def test_only_the_configured_headers_present_are_signed(rsa_key: rsa.RSAPrivateKey) -> None:
    header = DkimSigner("example.com", "s", pem(rsa_key)).signature_header(MESSAGE)
    unfolded = b" ".join(header.split())

    assert (
        b"h=from : to : subject : date : message-id : mime-version : content-type : list-unsubscribe"
        in unfolded
    )
    assert b"x-not-signed" not in unfolded


def test_keyring_picks_the_from_domain_or_its_parent(rsa_key: rsa.RSAPrivateKey) -> None:
    keyring = DkimKeyring([DkimSigner("example.com", "s", pem(rsa_key))])
    sub = MESSAGE.replace(b"shop@example.com", b"shop@mail.example.com")
    other = MESSAGE.replace(b"shop@example.com", b"shop@elsewhere.example")

    assert keyring.sign(sub).startswith(b"DKIM-Signature:")
    assert b"d=example.com" in keyring.sign(sub)
    assert keyring.sign(other) == other


def test_bad_keys_and_messages_are_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    ec_pem = pem(ec.generate_private_key(ec.SECP256R1()))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RSA or Ed25519"):
        DkimSigner("example.com", "s", ec_pem)
    with pytest.raises(ValueError, match="From"):
        DkimSigner("example.com", "s", pem(rsa_key), headers=["subject"])
    with pytest.raises(ValueError, match="From"):
        DkimSigner("example.com", "s", pem(rsa_key)).sign(b"Subject: x\r\n\r\nbody\r\n")


def test_a_signer_sent_to_a_render_process_parses_its_key_once(rsa_key: rsa.RSAPrivateKey) -> None:
    """A render process receives the keyring with every message it composes; parsing an RSA key each time
    cost ~40 ms per email."""
    signer = DkimSigner("example.com", "s2026", pem(rsa_key), timestamp="date-header")
    wire = pickle.dumps(DkimKeyring([signer]))

    first, second = pickle.loads(wire), pickle.loads(wire)

    [a], [b] = first.signers_for("example.com"), second.signers_for("example.com")
    assert a is b
    assert a.sign(MESSAGE) == signer.sign(MESSAGE)
    other = pickle.loads(pickle.dumps(DkimSigner("example.com", "s2027", pem(rsa_key))))
    assert other is not a and other.selector == "s2027"
