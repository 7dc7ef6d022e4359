"""Byte-exact MIME assembly for SMTP: refuses header injection, RFC 2047-encodes, deterministic boundaries.

The same inputs always give the same bytes (boundaries come from a hash of the content), so an archived
message can be re-rendered and compared.

Internationalised addresses: an IDN domain is written in punycode, so a message whose local parts are ASCII
stays 7-bit and any relay can carry it. A non-ASCII local part has no ASCII form, so that address goes into
the header as raw UTF-8 (RFC 6532; the relay must offer SMTPUTF8, which `delivery.smtp` checks). Display
names and the subject stay RFC 2047 encoded either way.

Every refusal is a `HeaderError` or `CompositionError` (both RenderErrors): it depends only on the inputs,
so the worker fails the message at once instead of retrying what can never work.
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

import idna

from renderers.errors import CompositionError, HeaderError

CRLF = b"\r\n"
_STRUCTURAL = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")
# C0 and C1 controls (tab aside) and the Unicode line and paragraph separators: none belongs in a header.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_NAMES = {"\r": "CR", "\n": "LF", "\0": "NUL", "\x0b": "vertical tab", "\x0c": "form feed"}


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message, e.g. the invoice PDF."""

    filename: str
    content_type: str
    data: bytes


class HeaderInjectionError(HeaderError):
    """A header value or address contains a control character (CR, LF, NUL, form feed...) or a header name
    is not allowed: it could smuggle in extra headers or would corrupt the one it is in."""


def _lone_surrogate(value: str) -> str | None:
    """The first lone surrogate as U+XXXX: JSON allows "\\ud800", but such text has no UTF-8 form."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(value[exc.start]):04X}"
    return None


def control_character(value: str) -> str | None:
    """The first character that may not appear in a header value (CR, LF, NUL, form feed...), named."""
    if match := _CONTROL.search(value):
        char = match.group()
        return _CONTROL_NAMES.get(char, f"U+{ord(char):04X}")
    return None


def _refuse_breaks(name: str, value: str) -> str:
    """Refuse control characters (naming the first) and text with no UTF-8 form in a header value."""
    if control := control_character(value):
        raise HeaderInjectionError(f"{name} contains a control character ({control})", header=name)
    if surrogate := _lone_surrogate(value):
        raise HeaderError(f"{name} is not valid Unicode (a lone surrogate, {surrogate})", header=name)
    return value


def _encode_value(name: str, value: str) -> str:
    """Fold long values and RFC 2047-encode non-ASCII ones."""
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\r\n")


def ascii_domain(domain: str) -> str:
    """The domain as the DNS knows it: IDNA 2008 (UTS 46) punycode; ASCII domains are kept as written.

    Not Python's `idna` codec, which is IDNA 2003 and would send `straße.de` to `strasse.de`, another domain.
    """
    if domain.isascii():
        domain.encode("idna")  # label length checks only (UnicodeError)
        return domain
    return str(idna.encode(domain, uts46=True).decode("ascii"))


def _display_name(display: str) -> str:
    """`formataddr`'s own quoting and RFC 2047 encoding of the name (it refuses a non-ASCII address)."""
    return formataddr((display, "_@_"), charset="utf-8").removesuffix(" <_@_>")


def _address(name: str, value: str) -> tuple[str, bool]:
    """Exactly one mailbox as header text, and whether it needs UTF-8 headers (a non-ASCII local part).

    The display name is RFC 2047 encoded; an IDN domain is punycode when the local part is ASCII (so the
    header stays 7-bit) and U-labels in a UTF-8 address.
    """
    _refuse_breaks(name, value)
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1]:
        raise HeaderError(f"{name} must be exactly one email address, got {value!r}", header=name)
    display, addr = found[0]
    local, _, domain = addr.rpartition("@")
    try:
        punycode = ascii_domain(domain)
    except (idna.IDNAError, UnicodeError) as exc:
        reason = f"{name} domain {domain!r} is not a valid internationalised domain name ({exc})"
        raise HeaderError(reason, header=name) from None
    if local.isascii():
        return formataddr((display, f"{local}@{punycode}"), charset="utf-8"), False
    mailbox = f"{local}@{domain if domain.isascii() else idna.decode(punycode)}"
    return (f"{_display_name(display)} <{mailbox}>" if display else mailbox), True


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends, whatever line ends the input used."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normalised, istext=True).replace(b"\n", CRLF)


def _text_part(subtype: str, text: str) -> bytes:
    if surrogate := _lone_surrogate(text):
        part = "text" if subtype == "plain" else subtype
        raise CompositionError(f"the {part} part is not valid Unicode (a lone surrogate, {surrogate})")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
    return head.encode() + CRLF + _qp(text)


def _attachment_part(attachment: Attachment) -> bytes:
    _refuse_breaks("attachment filename", attachment.filename)
    if not _CONTENT_TYPE.fullmatch(attachment.content_type):
        detail = f"invalid attachment content type {attachment.content_type!r}"
        raise HeaderInjectionError(detail, header="Content-Type")
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
) -> tuple[list[str], bool]:
    """Validate and encode every header value; extra headers may not replace the structural ones.

    Also says whether the header section needs UTF-8 (RFC 6532), i.e. an address has a non-ASCII local part.
    """
    _refuse_breaks("Message-ID", message_id)
    if not message_id.isascii() or not _MESSAGE_ID.fullmatch(message_id):
        detail = f"Message-ID must look like <id@domain> in ASCII, got {message_id!r}"
        raise HeaderError(detail, header="Message-ID")
    from_, utf8_from = _address("From", sender)
    to, utf8_to = _address("To", recipient)
    lines = [
        f"From: {from_}",
        f"To: {to}",
        f"Subject: {_encode_value('Subject', _refuse_breaks('Subject', subject))}",
        f"Date: {format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))}",
        f"Message-ID: {message_id}",
    ]
    for name, value in extra.items():
        lowered = name.lower()
        if not _HEADER_NAME.fullmatch(name) or lowered in _STRUCTURAL or lowered.startswith("content-"):
            raise HeaderInjectionError(f"header name {name!r} is not allowed", header=name)
        lines.append(f"{name}: {_encode_value(name, _refuse_breaks(name, value))}")
    lines.append("MIME-Version: 1.0")
    return lines, utf8_from or utf8_to


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
    """multipart/alternative (text, html), inside multipart/mixed when there are attachments; CRLF bytes.

    7-bit unless an address has a non-ASCII local part (then UTF-8 headers, RFC 6532). Anything that cannot
    be composed raises a HeaderError or CompositionError: no retry would change the outcome.
    """
    lines, utf8 = _headers(sender, recipient, subject, message_id, date, headers)
    head = "\r\n".join(lines).encode("utf-8" if utf8 else "ascii")
    body = _multipart("alternative", [_text_part("plain", text), _text_part("html", html)])
    if attachments:
        body = _multipart("mixed", [body, *(_attachment_part(item) for item in attachments)])
    return head + CRLF + body
