"""Standard Webhooks signing: the specification's published vector, the tolerance, several signatures."""

from __future__ import annotations

import pytest

from delivery.standard_webhooks import (
    SignatureError,
    generate_secret,
    secret_bytes,
    sign,
    signed_headers,
    verify,
)

# The vector published with the Standard Webhooks specification (and used by its reference libraries).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = EXPECTED, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_the_specification_vector_is_reproduced() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED
    assert signed_headers(SECRET, MSG_ID, BODY, timestamp=TIMESTAMP) == headers()


def test_the_specification_vector_verifies_within_the_tolerance() -> None:
    assert verify(SECRET, headers(), BODY, now=TIMESTAMP + 299) == MSG_ID
    assert verify(SECRET, headers(), BODY, now=TIMESTAMP - 299) == MSG_ID


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_stale_or_future_timestamp_is_refused(offset: int) -> None:
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, headers(), BODY, now=TIMESTAMP + offset)


def test_any_of_several_signatures_may_match() -> None:
    rotated = sign(generate_secret(), MSG_ID, TIMESTAMP, BODY)
    assert verify(SECRET, headers(f"{rotated} {EXPECTED}"), BODY, now=TIMESTAMP) == MSG_ID
    assert verify(SECRET, headers(f"v2,abc {EXPECTED}"), BODY, now=TIMESTAMP) == MSG_ID
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify(SECRET, headers(rotated), BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("change", "body"),
    [
        ({}, b'{"test": 2432232315}'),  # body altered
        ({"webhook-id": "msg_other"}, BODY),  # id altered
        ({"webhook-timestamp": str(TIMESTAMP + 1)}, BODY),  # timestamp altered
        ({"webhook-signature": EXPECTED.replace("v1,", "v2,")}, BODY),  # unknown scheme only
    ],
)
def test_any_altered_part_fails(change: dict[str, str], body: bytes) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, {**headers(), **change}, body, now=TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    incomplete = {k: v for k, v in headers().items() if k != missing}
    with pytest.raises(SignatureError, match=missing):
        verify(SECRET, incomplete, BODY, now=TIMESTAMP)


def test_a_non_integer_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="integer"):
        verify(SECRET, headers(timestamp=0) | {"webhook-timestamp": "soon"}, BODY, now=TIMESTAMP)


def test_generated_secrets_are_fresh_whsec_keys() -> None:
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(secret_bytes(first)) == 24
    with pytest.raises(SignatureError):
        secret_bytes("whsec_not base64!")


def test_signing_under_two_secrets_gives_one_signature_each_in_order() -> None:
    new = generate_secret()
    signed = signed_headers([new, SECRET], MSG_ID, BODY, timestamp=TIMESTAMP)
    assert signed["webhook-signature"] == f"{sign(new, MSG_ID, TIMESTAMP, BODY)} {EXPECTED}"
    assert verify(SECRET, signed, BODY, now=TIMESTAMP) == MSG_ID
    assert verify(new, signed, BODY, now=TIMESTAMP) == MSG_ID
    with pytest.raises(SignatureError, match="no secret"):
        signed_headers([], MSG_ID, BODY)
