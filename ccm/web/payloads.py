"""Sent bytes made readable for staff (the outbox and the archive): .eml parsed, SMS JSON decoded.

A channel spec names its payload view (`ChannelSpec.payload_view`); each view is a parser here and a partial
`ui/payloads/<view>.html`. Views are kinds of payload, not channels: a new channel picks one. Pure
functions over bytes, so the page handlers stay thin and the parsing is easy to test alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser

from ccm.channels import get_channel, is_channel

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post")


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


@dataclass(frozen=True)
class EmailView:
    headers: list[tuple[str, str]]
    subject: str
    html: str | None
    text: str | None
    attachments: list[Attachment]


@dataclass(frozen=True)
class SmsView:
    body: str
    encoding: str
    segments: int | None
    sender: str
    to: str


def canonical_uuid(value: str) -> str | None:
    """`value` when it is a UUID in its canonical form (what ccm uses as message ids), else None."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return value if str(parsed) == value else None


def email_subject(data: bytes) -> str:
    """The decoded Subject, reading headers only (the outbox list shows one per row)."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(data)
    return str(headers.get("Subject", ""))


def _parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def _text_of(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _attachment_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]


def _payload(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def parse_email(data: bytes) -> EmailView:
    """Headers worth showing, the HTML and text bodies, and the attachments (by position)."""
    message = _parse(data)
    headers = [(name, str(message[name])) for name in SHOWN_HEADERS if message[name] is not None]
    attachments = [
        Attachment(
            index, part.get_filename() or f"attachment-{index}", part.get_content_type(), len(_payload(part))
        )
        for index, part in enumerate(_attachment_parts(message))
    ]
    return EmailView(
        headers=headers,
        subject=str(message.get("Subject", "")),
        html=_text_of(message, "html"),
        text=_text_of(message, "plain"),
        attachments=attachments,
    )


def email_attachment(data: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """One attachment's metadata and decoded bytes, or None when there is no such attachment."""
    parts = _attachment_parts(_parse(data))
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    payload = _payload(part)
    name = part.get_filename() or f"attachment-{index}"
    return Attachment(index, name, part.get_content_type(), len(payload)), payload


def parse_sms(data: bytes) -> SmsView:
    """The JSON the outbox writes for an SMS; a malformed file still shows as its raw text."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return SmsView(data.decode("utf-8", "replace"), "unknown", None, "", "")
    segments = body.get("segments")
    return SmsView(
        body=str(body.get("body", "")),
        encoding=str(body.get("encoding", "unknown")),
        segments=segments if isinstance(segments, int) else None,
        sender=str(body.get("from", "")),
        to=str(body.get("to", "")),
    )


@dataclass(frozen=True)
class TextView:
    text: str


def parse_text(data: bytes) -> TextView:
    return TextView(data.decode("utf-8", "replace"))


@dataclass(frozen=True)
class PayloadView:
    """How one kind of payload is shown: its parser and the one-line summary the outbox list shows."""

    parse: Callable[[bytes], object]
    summary: Callable[[bytes], str]
    """A one-line title (an email's subject), or "" when the payload has none."""
    inline: bool = False
    """Whether the raw bytes may be shown inline (a PDF); anything else is only ever downloaded."""
    attachment: Callable[[bytes, int], tuple[Attachment, bytes] | None] | None = None
    """One of the payload's attachments by position, for payloads that carry any."""


def no_summary(_data: bytes) -> str:
    return ""


PAYLOAD_VIEWS: dict[str, PayloadView] = {
    "email": PayloadView(parse_email, email_subject, attachment=email_attachment),
    "sms": PayloadView(parse_sms, no_summary),
    "pdf": PayloadView(lambda _data: None, no_summary, inline=True),
    "text": PayloadView(parse_text, no_summary),
}


def view_name(channel: str) -> str:
    """The payload view of `channel`'s spec; "text" for a channel no longer registered (old outbox files)."""
    name = get_channel(channel).payload_view if is_channel(channel) else "text"
    return name if name in PAYLOAD_VIEWS else "text"


def payload_view(channel: str) -> PayloadView:
    return PAYLOAD_VIEWS[view_name(channel)]
