"""MIME assembly: structure, encodings, CRLF, determinism and header-injection refusals."""

import email
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest

from renderers.mime import Attachment, HeaderInjectionError, build_email_message

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
    with pytest.raises(ValueError, match="must"):
        build_email_message(**{**BASE, **override})
