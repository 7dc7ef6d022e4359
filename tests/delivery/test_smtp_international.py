"""SmtpProvider and internationalised addresses: punycode envelope domains, SMTPUTF8 only where offered."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from delivery import Channel, Outcome, OutgoingMessage, SmtpProvider
from tests.fixtures.smtp import SmtpServerFactory, SmtpTestServer

ASCII_PAYLOAD = (
    b"From: shop@xn--strae-oqa.de\r\n"
    b"To: anna@xn--bcher-kva.de\r\n"
    b"Subject: Hallo\r\n"
    b"Message-ID: <m1@ccm.example>\r\n"
    b"\r\n"
    b"body\r\n"
)
# An RFC 6532 message as renderers.mime composes it for a non-ASCII local part: the address is raw UTF-8.
UTF8_PAYLOAD = (
    "From: shop@example.com\r\n"
    "To: =?utf-8?q?Jos=C3=A9?= <josé@bücher.de>\r\n"
    "Subject: Hola\r\n"
    "Message-ID: <m2@ccm.example>\r\n"
    "\r\n"
    "body\r\n"
).encode()


def email(recipient: str, payload: bytes, sender: str = "Shop <bounces@example.com>") -> OutgoingMessage:
    return OutgoingMessage("m1", Channel.EMAIL, recipient, sender, payload, "message/rfc822")


@pytest.fixture
def utf8_server(smtp_server_factory: SmtpServerFactory) -> SmtpTestServer:
    """A relay that offers SMTPUTF8 (aiosmtpd's Controller does unless told otherwise)."""
    return smtp_server_factory(enable_SMTPUTF8=True)


@pytest.fixture
def ascii_server(smtp_server_factory: SmtpServerFactory) -> SmtpTestServer:
    """A relay without SMTPUTF8."""
    return smtp_server_factory(enable_SMTPUTF8=False)


def provider_for(server: SmtpTestServer) -> SmtpProvider:
    return SmtpProvider(server.host, server.port, timeout=5, local_hostname="ccm.test")


@pytest.fixture
def plain(ascii_server: SmtpTestServer) -> Iterator[SmtpProvider]:
    """A provider talking to the relay without SMTPUTF8."""
    smtp = provider_for(ascii_server)
    yield smtp
    smtp.close()


def test_idn_domains_go_out_in_punycode_without_smtputf8(
    plain: SmtpProvider, ascii_server: SmtpTestServer
) -> None:
    result = plain.send(email("anna@Bücher.de", ASCII_PAYLOAD, sender="Shop <bounces@straße.de>"))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    (received,) = ascii_server.wait_for(1)
    assert received.rcpt_tos == ("anna@xn--bcher-kva.de",)
    assert received.mail_from == "bounces@xn--strae-oqa.de"  # IDNA 2008, not strasse.de
    assert "SMTPUTF8" not in received.mail_options
    assert received.data == ASCII_PAYLOAD


def test_non_ascii_local_part_goes_with_smtputf8_where_offered(utf8_server: SmtpTestServer) -> None:
    smtp = provider_for(utf8_server)
    try:
        result = smtp.send(email("josé@bücher.de", UTF8_PAYLOAD))
    finally:
        smtp.close()

    assert result.outcome is Outcome.ACCEPTED, result.detail
    (received,) = utf8_server.wait_for(1)
    assert received.rcpt_tos == ("josé@xn--bcher-kva.de",)
    assert "SMTPUTF8" in received.mail_options
    assert hashlib.sha256(received.data).digest() == hashlib.sha256(UTF8_PAYLOAD).digest()


def test_ascii_messages_do_not_ask_for_smtputf8_even_where_offered(utf8_server: SmtpTestServer) -> None:
    smtp = provider_for(utf8_server)
    try:
        assert smtp.send(email("anna@bücher.de", ASCII_PAYLOAD)).accepted
    finally:
        smtp.close()
    assert "SMTPUTF8" not in utf8_server.wait_for(1)[0].mail_options


@pytest.mark.parametrize(
    ("recipient", "payload"),
    [
        ("josé@bücher.de", UTF8_PAYLOAD),  # a non-ASCII local part in the envelope
        ("jose@example.com", UTF8_PAYLOAD),  # an ASCII envelope, but RFC 6532 headers
    ],
)
def test_relay_without_smtputf8_is_a_permanent_failure(
    plain: SmtpProvider, ascii_server: SmtpTestServer, recipient: str, payload: bytes
) -> None:
    result = plain.send(email(recipient, payload))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert result.detail.startswith("smtputf8_unsupported: ")
    assert not result.recipient_rejected  # the address is fine; this relay is not
    assert "MAIL" not in ascii_server.handler.commands
    assert plain.send(email("anna@example.org", ASCII_PAYLOAD)).accepted  # the session stays usable
    assert ascii_server.connection_count == 1


def test_invalid_idn_domain_is_permanent(plain: SmtpProvider, ascii_server: SmtpTestServer) -> None:
    result = plain.send(email("anna@☃.example", ASCII_PAYLOAD))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert result.detail.startswith("invalid_domain: ")
    assert ascii_server.messages == []
