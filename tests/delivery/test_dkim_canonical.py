"""The signer's own body parse and relaxed canonicalisation give dkimpy's bytes, on bodies that take the
fast path and on those that fall back to dkimpy."""

from __future__ import annotations

import dkim
import pytest
from dkim.canonicalization import CanonicalizationPolicy

from delivery.dkim import parse_message, relaxed_body

RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
HEAD = b"From: a@example.com\r\nSubject:  two  spaces \r\n\tfolded\r\n"
BODIES = [
    b"",
    b"\r\n",
    b"\r\n\r\n\r\n",
    b"plain line\r\n",
    b"no final newline",
    b"trailing space \r\nnext\r\n",
    b"trailing tab\t\r\n\t\r\n",
    b"inner  double   triple    four\r\n",
    b"tab\there\t \t mixed\r\n",
    b"end with space ",
    b"end with spaces and lines   \r\n\r\n\r\n",
    b" leading space\r\n  leading two\r\n",
    b"=C3=A9 quoted=\r\n printable  =20\r\n",
    b"lone\rcarriage\r return \r\n",
    b"trailing empty lines\r\n\r\n\r\n",
]


@pytest.mark.parametrize("body", BODIES)
def test_relaxed_body_matches_dkimpy(body: bytes) -> None:
    assert relaxed_body(body) == RELAXED.canonicalize_body(body)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("separator", [b"\r\n", b"\n"])
def test_parse_matches_dkimpy(body: bytes, separator: bytes) -> None:
    message = HEAD.replace(b"\r\n", separator) + separator + body

    headers, parsed = parse_message(message)

    expected_headers, expected_body = dkim.rfc822_parse(message)
    assert [list(pair) for pair in headers] == expected_headers
    assert parsed == expected_body


@pytest.mark.parametrize(
    "message",
    [
        b"\r\nFrom: a@example.com\r\n\r\nbody\r\n",  # empty first line: no headers at all
        b"From: a@example.com\r\nX: y\r\n",  # no empty line: no body
        b"From: a@example.com\r\n\r\nbody with a bare\nLF\r\n",
        b"From: a@example.com\r\n\r\n",
    ],
)
def test_parse_matches_dkimpy_on_odd_messages(message: bytes) -> None:
    headers, body = parse_message(message)

    expected_headers, expected_body = dkim.rfc822_parse(message)
    assert ([list(pair) for pair in headers], body) == (expected_headers, expected_body)
