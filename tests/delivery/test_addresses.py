"""Email addresses in their wire form: IDN domains in IDNA 2008 punycode, local parts untouched."""

from __future__ import annotations

import pytest

from delivery.addresses import InvalidDomain, ascii_domain, envelope_address, needs_smtputf8


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example", "xn--bcher-kva.example"),  # UTS 46 maps case before encoding
        ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008: not strasse.de
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("Example.COM", "Example.COM"),  # ASCII is kept as written
    ],
)
def test_ascii_domain(domain: str, expected: str) -> None:
    assert ascii_domain(domain) == expected


def test_envelope_address_drops_the_display_name_and_keeps_the_local_part() -> None:
    assert envelope_address("José <José@Bücher.example>") == "José@xn--bcher-kva.example"
    assert envelope_address("no-at-sign") == "no-at-sign"
    with pytest.raises(InvalidDomain, match="☃"):
        envelope_address("anna@☃.example")


def test_needs_smtputf8() -> None:
    ascii_message = b"To: anna@xn--bcher-kva.example\r\n\r\nbody \xc3\xa8\r\n"  # 8-bit body only
    assert not needs_smtputf8(ascii_message, "shop@example.com", "anna@xn--bcher-kva.example")
    assert needs_smtputf8(ascii_message, "shop@example.com", "josé@xn--bcher-kva.example")
    assert needs_smtputf8("To: josé@bücher.example\r\n\r\n".encode(), "a@b.example", "c@d.example")
