"""Byte-exact MIME assembly for SMTP: refuses header injection, RFC 2047-encodes, deterministic boundaries.

The same inputs always give the same bytes (boundaries come from a hash of the content), so an archived
message can be re-rendered and compared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses
from urllib.parse import quote

CRLF = b"\r\n"
_STRUCTURAL = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message, e.g. the invoice PDF."""

    filename: str
    content_type: str
    data: bytes


class HeaderInjectionError(ValueError):
    """A header value or address contains CR, LF or NUL and could smuggle in extra headers."""


def _refuse_breaks(name: str, value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise HeaderInjectionError(f"{name} contains a line break or NUL")
    return value


def _encode_value(name: str, value: str) -> str:
    """Fold long values and RFC 2047-encode non-ASCII ones."""
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\r\n")


def _address(name: str, value: str) -> str:
    """Exactly one mailbox; display name encoded, IDN domain in punycode (no SMTPUTF8 support)."""
    _refuse_breaks(name, value)
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"{name} must be exactly one email address, got {value!r}")
    display, addr = found[0]
    local, _, domain = addr.rpartition("@")
    if not local.isascii():
        raise ValueError(f"{name} has a non-ASCII local part, which needs SMTPUTF8")
    return formataddr((display, f"{local}@{domain.encode('idna').decode('ascii')}"), charset="utf-8")


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends, whatever line ends the input used."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normalised, istext=True).replace(b"\n", CRLF)


def _text_part(subtype: str, text: str) -> bytes:
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
    return head.encode() + CRLF + _qp(text)


def _attachment_part(attachment: Attachment) -> bytes:
    _refuse_breaks("attachment filename", attachment.filename)
    if not _CONTENT_TYPE.fullmatch(attachment.content_type):
        raise HeaderInjectionError(f"invalid attachment content type {attachment.content_type!r}")
    name = attachment.filename.replace("\\", "_").replace('"', "_")
    if name.isascii():
        disposition = f'attachment; filename="{name}"'
    else:
        disposition = "attachment; filename*=utf-8''" + quote(name, safe="")
    head = (
        f"Content-Type: {attachment.content_type}\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: {disposition}\r\n"
    )
    return head.encode() + CRLF + base64.encodebytes(attachment.data).replace(b"\n", CRLF)


def _multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    """`=_` cannot occur in quoted-printable or base64 bodies, so a hash-derived `=_…` boundary is safe."""
    digest = hashlib.sha256(subtype.encode() + b"\0".join(parts)).hexdigest()[:32]
    boundary = f"=_{subtype[:3]}_{digest}".encode()
    body = b"".join(b"--" + boundary + CRLF + part + CRLF for part in parts) + b"--" + boundary + b"--" + CRLF
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary.decode()}"\r\n'.encode()
    return head + CRLF + body


def _headers(
    sender: str, recipient: str, subject: str, message_id: str, date: datetime, extra: Mapping[str, str]
) -> list[str]:
    """Validate and encode every header value; extra headers may not replace the structural ones."""
    if not _MESSAGE_ID.fullmatch(_refuse_breaks("Message-ID", message_id)):
        raise ValueError(f"Message-ID must look like <id@domain>, got {message_id!r}")
    lines = [
        f"From: {_address('From', sender)}",
        f"To: {_address('To', recipient)}",
        f"Subject: {_encode_value('Subject', _refuse_breaks('Subject', subject))}",
        f"Date: {format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))}",
        f"Message-ID: {message_id}",
    ]
    for name, value in extra.items():
        lowered = name.lower()
        if not _HEADER_NAME.fullmatch(name) or lowered in _STRUCTURAL or lowered.startswith("content-"):
            raise HeaderInjectionError(f"header name {name!r} is not allowed")
        lines.append(f"{name}: {_encode_value(name, _refuse_breaks(name, value))}")
    lines.append("MIME-Version: 1.0")
    return lines


def build_email_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    html: str,
    text: str,
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] = {},
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """multipart/alternative (text, html), inside multipart/mixed when there are attachments; CRLF bytes."""
    head = "\r\n".join(_headers(sender, recipient, subject, message_id, date, headers)).encode("ascii")
    body = _multipart("alternative", [_text_part("plain", text), _text_part("html", html)])
    if attachments:
        body = _multipart("mixed", [body, *(_attachment_part(item) for item in attachments)])
    return head + CRLF + body
