"""What the outbox recorded, made readable: .eml files parsed with the stdlib, SMS JSON decoded.

Pure functions over bytes, so the page handlers stay thin and the parsing is easy to test alone.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser

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
