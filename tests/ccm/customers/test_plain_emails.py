"""The plain-address fast path gives exactly what pydantic's `EmailStr` (email-validator behind it) gives, or
steps aside: over tricky and random addresses it never accepts what the validator refuses, never stores a
different form, and it does take the everyday addresses an import is made of."""

from __future__ import annotations

import random

import email_validator
import pytest

from ccm.customers.plain_emails import plain_email
from tests.ccm.customers.test_email_domains import TRICKY, outcome

LONG_DOMAIN = ("c" * 63 + ".") * 3
CJK_LABEL = "xn--wgv" + "a" * 56  # 57 times 日, in the longest label punycode allows
EVERYDAY = [
    "person1@example.com",
    "Anna.Rossi+news@Example.COM",
    "first_last-2@mail.example.co.uk",
    "PostMaster@example.com",  # a case-insensitive mailbox: the library lower-cases the local part
    "Abuse@EXAMPLE.org",
    "user@xn--bcher-kva.de",  # ASCII in, the Unicode domain out, as the library gives it
    "a@b.co",
    "x" * 64 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + LONG_DOMAIN + "c" * 55 + ".com",  # 253 characters in all
    "a@" + LONG_DOMAIN + "c" * 56 + ".com",  # 254, the limit
]
EDGES = [
    *TRICKY,
    "x" * 65 + "@example.com",  # over the strict-mode local limit: left to the validator
    "ab@" + LONG_DOMAIN + "c" * 56 + ".com",  # 255: too long
    f"a@{CJK_LABEL}.{CJK_LABEL}.com",  # 133 characters as given, 349 UTF-8 bytes once the domain is Unicode
    "a@" + "b" * 64 + ".com",  # a label over 63 characters
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example..com",
    "a@.example.com",
    "a@example.com.",
    "a@example",
    "a@-example.com",
    "a@example-.com",
    "a@exa--mple.com",
    "a@xn--example.com",
    "a@example.c",
    "a@example.co1",
    "a@123.456",
    "a@example.arpa",
    "a@example.invalid",
    "a@example.onion",
    "a@example.local",
    "a@sub.localhost",
    "a@home.arpa",
    "a@example.com\n",
    " a@example.com",
    "a@example.com ",
    "a @example.com",
    "a@@example.com",
    "a@b@example.com",
    "a<b>@example.com",
    "<a@example.com>",
    "Ann <a@example.com>",
    "a+@example.com",
    "+@example.com",
    "-@example.com",
    "_@example.com",
    "a_b@example.com",
    "a!b@example.com",
    "a%b@example.com",
    "A@EXAMPLE.COM",
    "POSTMASTER@example.com",
    "Hostmaster@example.com",
    "a@EXAMPLE.com",
    "a@ex_ample.com",
    "a@xn--bcher-kva.xn--p1ai",
    "a@XN--BCHER-KVA.DE",
    "",
    "@",
]


def assert_agrees(email: str) -> None:
    fast = plain_email(email)
    if fast is not None:
        assert outcome(email) == ("ok", fast), email


@pytest.mark.parametrize("email", EVERYDAY + EDGES)
def test_the_fast_path_agrees_with_the_validator_or_steps_aside(email: str) -> None:
    assert_agrees(email)


@pytest.mark.parametrize("email", EVERYDAY)
def test_everyday_addresses_take_the_fast_path(email: str) -> None:
    assert plain_email(email) is not None and outcome(email)[0] == "ok"


def test_random_addresses_agree() -> None:
    """Strings built from the characters that matter to either side, at the lengths where limits bite."""
    rng = random.Random(20261201)
    rare = '.-_+@!#<> "é\u0301'
    taken = 0
    for _ in range(4000):
        size = rng.choice([1, 2, 5, 12, 63, 64, 65])
        local = "".join(rng.choice(rare) if rng.random() < 0.08 else rng.choice("aZ09") for _ in range(size))
        labels = [
            "".join(rng.choice("-_.é") if rng.random() < 0.1 else rng.choice("aZ09") for _ in range(n))
            for n in (rng.randint(1, 8), rng.choice([1, 3, 62, 63, 64]))
        ]
        tld = rng.choice(["com", "de", "test", "local", "1", "co", "xn--p1ai", "c", "arpa", "COM"])
        email = f"{local}@{'.'.join(labels)}.{tld}"
        assert_agrees(email)
        taken += plain_email(email) is not None
    assert taken > 100  # the comparison exercised the fast path, not only its refusals


def test_the_library_settings_are_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plain_email("ann@shop.test") is None
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)
    assert plain_email("ann@shop.test") == "ann@shop.test"
    assert_agrees("ann@shop.test")
