"""Password hashes: scrypt with a random salt, self-describing, checked in constant time, never crashing on
a malformed row."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ccm.access.passwords import WeakPassword, check_rules, dummy_hash, hash_password, verify_password

PASSWORD = "correct horse battery"


def test_a_hash_names_its_scheme_and_parameters_and_verifies() -> None:
    stored = hash_password(PASSWORD)
    scheme, cost, block_size, parallelism, salt, digest = stored.split("$")
    assert (scheme, cost, block_size, parallelism) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + " ", stored)
    assert not verify_password("", stored)


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_a_hash_made_with_other_parameters_still_verifies() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**12, r=4, p=2, dklen=32)
    stored = f"scrypt$4096$4$2${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert verify_password(PASSWORD, stored)
    assert not verify_password("another password", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain text",
        "bcrypt$16384$8$1$c2FsdA==$aGFzaA==",
        "scrypt$16384$8$1$c2FsdA==",  # a field missing
        "scrypt$abc$8$1$c2FsdA==$aGFzaA==",
        "scrypt$1000$8$1$c2FsdA==$aGFzaA==",  # N not a power of two
        f"scrypt${2**30}$8$1$c2FsdA==$aGFzaA==",  # a forged cost of gigabytes is not run
        "scrypt$16384$0$1$c2FsdA==$aGFzaA==",
        "scrypt$16384$8$1$not base64!$aGFzaA==",
    ],
)
def test_a_malformed_hash_verifies_nothing(stored: str) -> None:
    assert not verify_password(PASSWORD, stored)


def test_the_dummy_hash_is_a_real_hash_of_no_known_password() -> None:
    assert dummy_hash().startswith("scrypt$16384$8$1$") and dummy_hash() == dummy_hash()
    assert not verify_password("", dummy_hash())


def test_a_password_needs_twelve_characters() -> None:
    check_rules("x" * 12)
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        check_rules("x" * 11)
