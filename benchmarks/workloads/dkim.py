"""Workload 3, DKIM signatures/s: ccm's `DkimSigner` (key parsed once, the signature by OpenSSL) against
dkimpy's default signing, `dkim.sign(message, selector, domain, pem)` as a caller would write it (the PEM
parsed and the RSA done in Python on every call), on the same ~30 KB invoice email, RSA-2048, relaxed/relaxed,
the same signed headers. Goal: ≥ 5x.

    .venv/bin/python -m benchmarks.workloads.dkim [--quick]
"""

from __future__ import annotations

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks.workloads.messages import invoice_email
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from benchmarks.workloads.timing import paired_rates
from delivery import DEFAULT_SIGNED_HEADERS, DkimSigner

DOMAIN, SELECTOR = "example.com", "bench"
GOAL = 5.0


def measure(quick: bool) -> list[Result]:
    """Both signers on one message; checks first that they produce the same header, t= aside."""
    message = invoice_email()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = DkimSigner(DOMAIN, SELECTOR, pem, timestamp="omit")
    include = [name.encode() for name in DEFAULT_SIGNED_HEADERS if name.encode() + b":" in message.lower()]

    def dkimpy() -> bytes:
        return bytes(
            dkim.sign(
                message,
                SELECTOR.encode(),
                DOMAIN.encode(),
                pem,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[*include, b"from"],
            )
        )

    ours, reference = paired_rates(lambda: signer.sign(message), dkimpy, 6.0 if quick else 20.0)
    notes = f"RSA-2048, relaxed/relaxed, a {len(message) / 1024:.0f} KB message"
    return [Result("3 dkim", ours, reference, "signatures/s", "dkimpy dkim.sign", GOAL, notes)]


if __name__ == "__main__":
    main(measure)
