"""MIME assembly: structure, encodings, CRLF, determinism, header-injection refusals, internationalised
addresses (punycode domains, RFC 6532 local parts)."""

import email
import email.policy
import pickle
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from renderers.errors import CompositionError, HeaderError, RenderError
from renderers.mime import Attachment, HeaderInjectionError, ascii_domain, build_email_message

BASE: dict[str, Any] = {
    "sender": "Négoce Shop <shop@example.com>",
    "recipient": "Zoë Müller <zoe@example.de>",
    "subject": "Fattura n° 12 — €150,00",
    "html": "<p>Ciao Zoë</p>" + "x" * 300,
    "text": "Ciao Zoë\n.\nFrom here",
    "message_id": "<abc.1@example.com>",
    "date": datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
    "headers": {
        "List-Unsubscribe": "<https://example.com/u/abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
}
PDF = Attachment("fattura è.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4)


def parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_alternative_structure_and_headers() -> None:
    raw = build_email_message(**BASE)
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == BASE["subject"]
    assert message["From"].addresses[0].display_name == "Négoce Shop"
    assert message["To"].addresses[0].addr_spec == "zoe@example.de"
    assert message["Message-ID"] == "<abc.1@example.com>"
    assert message["Date"].datetime == BASE["date"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)).get_content() == "Ciao Zoë\r\n.\r\nFrom here"  # type: ignore[union-attr]
    assert message.get_body(("html",)).get_content().startswith("<p>Ciao Zoë</p>")  # type: ignore[union-attr]
    assert not message.defects


def test_wire_format_is_ascii_crlf_with_short_lines() -> None:
    raw = build_email_message(**BASE, attachments=[PDF])
    raw.decode("ascii")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"Subject: =?utf-8?" in raw


def test_attachments_wrap_in_mixed() -> None:
    message = parse(build_email_message(**BASE, attachments=[PDF]))
    assert message.get_content_type() == "multipart/mixed"
    attachment = next(iter(message.iter_attachments()))
    assert attachment.get_filename() == "fattura è.pdf"
    assert attachment.get_content() == PDF.data
    assert message.get_body(("plain",)) is not None


def test_deterministic_bytes_and_content_bound_boundaries() -> None:
    first = build_email_message(**BASE, attachments=[PDF])
    assert first == build_email_message(**BASE, attachments=[PDF])
    assert first != build_email_message(**{**BASE, "text": "other"}, attachments=[PDF])


@pytest.mark.parametrize(
    "override",
    [
        {"subject": "Hi\r\nBcc: victim@example.com"},
        {"subject": "Hi\nthere"},
        {"recipient": "a@example.com\r\nBcc: victim@example.com"},
        {"sender": "shop@example.com\n"},
        {"headers": {"List-Unsubscribe": "<https://x>\r\nBcc: v@x"}},
        {"headers": {"X-Bad\r\nBcc": "v"}},
        {"headers": {"Subject": "second subject"}},
        {"message_id": "<a@b>\r\nBcc: v@x"},
        {"subject": "nul\0byte"},
    ],
)
def test_header_injection_refused(override: dict[str, Any]) -> None:
    with pytest.raises(HeaderInjectionError):
        build_email_message(**{**BASE, **override})


@pytest.mark.parametrize(
    "override",
    [{"recipient": "a@example.com, b@example.com"}, {"recipient": "nobody"}, {"message_id": "abc"}],
)
def test_invalid_addresses_and_ids(override: dict[str, Any]) -> None:
    with pytest.raises(HeaderError, match="must"):
        build_email_message(**{**BASE, **override})


def header_section(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_idn_domain_is_punycode_and_the_message_stays_7bit() -> None:
    raw = build_email_message(**{**BASE, "recipient": "Zoë <zoe@Bücher.de>", "sender": "shop@straße.de"})
    assert raw.isascii()
    assert b"To: =?utf-8?q?Zo=C3=AB?= <zoe@xn--bcher-kva.de>\r\n" in raw
    assert b"From: shop@xn--strae-oqa.de\r\n" in raw  # IDNA 2008: straße.de is not strasse.de
    assert parse(raw)["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("domain", "expected"),
    [("bücher.de", "xn--bcher-kva.de"), ("ÖBB.at", "xn--bb-eka.at"), ("Example.COM", "Example.COM")],
)
def test_ascii_domain(domain: str, expected: str) -> None:
    assert ascii_domain(domain) == expected


def test_non_ascii_local_part_gives_an_rfc_6532_message_that_parses_back() -> None:
    recipient, sender = "Zoë Müller <josé@bücher.de>", "Négoce <négoce@example.com>"
    raw = build_email_message(**{**BASE, "recipient": recipient, "sender": sender}, attachments=[PDF])
    head = header_section(raw)
    assert "To: =?utf-8?b?Wm/DqyBNw7xsbGVy?= <josé@bücher.de>\r\n".encode() in head  # raw UTF-8, U-labels
    assert "From: =?utf-8?q?N=C3=A9goce?= <négoce@example.com>\r\n".encode() in head
    assert b"Subject: =?utf-8?" in head  # the subject stays RFC 2047 encoded
    assert raw[len(head) :].isascii()  # and the body 7-bit
    # RFC 6532 headers are UTF-8 text; the stdlib's bytes parser would leave them as surrogate escapes
    message = email.message_from_string(raw.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"].addresses[0].addr_spec == "josé@bücher.de"
    assert message["To"].addresses[0].display_name == "Zoë Müller"
    assert message["From"].addresses[0].addr_spec == "négoce@example.com"
    assert message["Subject"] == BASE["subject"]
    assert next(iter(message.iter_attachments())).get_content() == PDF.data
    assert raw == build_email_message(**{**BASE, "recipient": recipient, "sender": sender}, attachments=[PDF])


def test_utf8_address_without_display_name() -> None:
    raw = build_email_message(**{**BASE, "recipient": "josé@example.com"})
    assert "To: josé@example.com\r\n".encode() in raw


CONTROLS = {"CR": "\r", "LF": "\n", "NUL": "\0", "form feed": "\x0c", "U+001B": "\x1b", "U+0085": "\x85"}


@pytest.mark.parametrize("control", CONTROLS.items(), ids=CONTROLS.keys())
@pytest.mark.parametrize(
    ("header", "override"),
    [
        ("Subject", lambda c: {"subject": f"Hello Ann{c}"}),
        ("To", lambda c: {"recipient": f"Ann{c} <ann@example.com>"}),
        ("From", lambda c: {"sender": f"shop{c}@example.com"}),
        ("attachment filename", lambda c: {"attachments": [Attachment(f"a{c}.pdf", "application/pdf", b"")]}),
        ("List-Unsubscribe", lambda c: {"headers": {"List-Unsubscribe": f"<https://x/{c}>"}}),
    ],
)
def test_control_characters_bound_for_a_header_are_a_permanent_error(
    header: str, override: Any, control: tuple[str, str]
) -> None:
    """A RenderError, so the worker fails the message at once rather than retrying for a day."""
    name, char = control
    with pytest.raises(
        HeaderInjectionError, match=re.escape(f"contains a control character ({name})")
    ) as caught:
        build_email_message(**{**BASE, **override(char)})
    assert isinstance(caught.value, RenderError)
    assert caught.value.header == header


@pytest.mark.parametrize(
    ("override", "header"),
    [
        ({"recipient": "ann@☃.net"}, "To"),
        ({"sender": "shop@" + "ü" * 64 + ".example"}, "From"),
        ({"recipient": "ann@a..example"}, "To"),
        ({"subject": "Hello \ud800"}, "Subject"),
        ({"message_id": "<1@bücher.de>"}, "Message-ID"),
    ],
)
def test_values_no_header_can_carry_are_header_errors(override: dict[str, Any], header: str) -> None:
    with pytest.raises(HeaderError) as caught:
        build_email_message(**{**BASE, **override})
    assert caught.value.header == header


def test_body_text_that_is_not_unicode_is_a_composition_error() -> None:
    with pytest.raises(CompositionError, match="text part is not valid Unicode"):
        build_email_message(**{**BASE, "text": "half a pair \udc00"})


def test_header_errors_survive_the_render_process_boundary() -> None:
    error = HeaderError("To must be exactly one email address", header="To")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.message, copy.header) == (HeaderError, error.message, "To")
