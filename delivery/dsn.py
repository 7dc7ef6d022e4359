"""SMTP bounces: RFC 3464 delivery status notifications read into normalised events (RFC 3463 status codes).

A DSN is a `multipart/report; report-type=delivery-status` with a human-readable part, a
`message/delivery-status` part (one block about the reporting MTA, one block per recipient) and, usually, the
original message or its headers, where the `X-CCM-Message-Id` (or `Message-ID`) ties it to our message.

How each recipient block becomes an event:

| Action                 | Status class | Event     | `bounce` |
|------------------------|--------------|-----------|----------|
| failed                 | 5.x.x        | BOUNCED   | hard     |
| failed                 | 4.x.x        | BOUNCED   | soft     |
| failed                 | none/invalid | FAILED    | -        |
| delivered, relayed     | any          | DELIVERED | -        |
| delayed, expanded      | any          | (none: not a final outcome) |

`raw["subject"]` names the RFC 3463 subject (addressing, mailbox, system, network, protocol, content, policy),
so the service can suppress an address only for hard bounces about the address or mailbox, not, say, for a
policy rejection of one message's content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from delivery.base import ProviderEvent, ProviderEventType

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SUBJECTS = {
    "0": "other",
    "1": "addressing",
    "2": "mailbox",
    "3": "mail-system",
    "4": "network",
    "5": "protocol",
    "6": "content",
    "7": "policy",
}
_QUEUE_ID_FIELDS = ("X-Postfix-Queue-ID", "X-Queue-ID")


@dataclass(frozen=True, slots=True)
class DsnRecipient:
    """One per-recipient block of a DSN."""

    recipient: str
    action: str
    status: str | None
    diagnostic_code: str
    remote_mta: str
    original_recipient: str = ""

    @property
    def hard(self) -> bool | None:
        """True for a permanent (5.x.x) status, False for a transient (4.x.x) one, None without a status."""
        if self.status is None or self.status[0] == "2":
            return None
        return self.status[0] == "5"

    @property
    def subject(self) -> str:
        """The RFC 3463 subject of the status (addressing, mailbox, policy, ...), or "unknown"."""
        return _SUBJECTS.get(self.status.split(".")[1], "other") if self.status else "unknown"


@dataclass(frozen=True, slots=True)
class DeliveryStatusNotification:
    """What a DSN says: who reports, which message it is about, and what happened to each recipient."""

    reporting_mta: str
    ccm_message_id: str | None
    message_id_header: str | None
    queue_id: str | None
    recipients: tuple[DsnRecipient, ...]

    @property
    def original_message_id(self) -> str | None:
        """The id to reconcile with: our X-CCM-Message-Id, else the Message-ID, else the relay's queue id."""
        return self.ccm_message_id or self.message_id_header or self.queue_id

    def events(self, provider: str = "smtp") -> list[ProviderEvent]:
        """One event per recipient with a final outcome; ValueError when the DSN names no original message."""
        reference = self.original_message_id
        if reference is None:
            raise ValueError("DSN names no original message (no X-CCM-Message-Id, Message-ID or queue id)")
        events = []
        for recipient in self.recipients:
            event_type = _event_type(recipient)
            if event_type is not None:
                events.append(
                    ProviderEvent(provider, reference, event_type, _detail(recipient), self._raw(recipient))
                )
        return events

    def _raw(self, recipient: DsnRecipient) -> dict[str, object]:
        hard = recipient.hard
        return {
            "recipient": recipient.recipient,
            "original_recipient": recipient.original_recipient,
            "action": recipient.action,
            "status": recipient.status,
            "bounce": None if hard is None else ("hard" if hard else "soft"),
            "subject": recipient.subject,
            "diagnostic_code": recipient.diagnostic_code,
            "remote_mta": recipient.remote_mta,
            "reporting_mta": self.reporting_mta,
            "ccm_message_id": self.ccm_message_id,
            "message_id": self.message_id_header,
            "queue_id": self.queue_id,
        }


def parse_dsn(data: bytes) -> DeliveryStatusNotification:
    """Read an RFC 3464 DSN; ValueError for anything else (never another exception for odd input)."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise ValueError("empty input is not a DSN")
    try:
        message = message_from_bytes(bytes(data), policy=compat32)
        return _parse_report(message)
    except ValueError:
        raise
    except Exception as exc:  # the email package's odd failures on hostile input: still "not a DSN"
        raise ValueError(f"unreadable DSN: {type(exc).__name__}: {exc}") from exc


def dsn_events(data: bytes, provider: str = "smtp") -> list[ProviderEvent]:
    """Parse a DSN straight into normalised events (see the module's table)."""
    return parse_dsn(data).events(provider)


def _parse_report(message: Message) -> DeliveryStatusNotification:
    if message.get_content_type() != "multipart/report" or not message.is_multipart():
        raise ValueError(f"not a delivery status notification (Content-Type {message.get_content_type()})")
    status_part = _first_part(message, "message/delivery-status")
    if status_part is None:
        raise ValueError("multipart/report without a message/delivery-status part")
    blocks = _status_blocks(status_part)
    if len(blocks) < 2:
        raise ValueError("delivery-status part has no per-recipient fields")
    per_message, per_recipient = blocks[0], blocks[1:]
    recipients = tuple(r for r in (_recipient(block) for block in per_recipient) if r is not None)
    if not recipients:
        raise ValueError("delivery-status part names no recipient (Final-Recipient)")
    original = _original_headers(message)
    return DeliveryStatusNotification(
        reporting_mta=_typed_value(per_message.get("Reporting-MTA")),
        ccm_message_id=_header(original, "X-CCM-Message-Id"),
        message_id_header=_header(original, "Message-ID"),
        queue_id=next((v for f in _QUEUE_ID_FIELDS if (v := _header(per_message, f))), None),
        recipients=recipients,
    )


def _first_part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part (the parser already split them, or we do)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    chunks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser(policy=compat32).parsestr(chunk) for chunk in chunks if chunk.strip()]


def _recipient(block: Message) -> DsnRecipient | None:
    final = _typed_value(block.get("Final-Recipient"))
    if not final:
        return None
    status = _STATUS.search(_unfold(block.get("Status")))
    return DsnRecipient(
        recipient=final,
        action=_unfold(block.get("Action")).lower(),
        status=".".join(status.groups()) if status else None,
        diagnostic_code=_unfold(block.get("Diagnostic-Code")),
        remote_mta=_typed_value(block.get("Remote-MTA")),
        original_recipient=_typed_value(block.get("Original-Recipient")),
    )


def _original_headers(message: Message) -> Message | None:
    """The bounced message's headers: an attached message/rfc822, or a text/rfc822-headers part."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif content_type == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return HeaderParser(policy=compat32).parsestr(raw.decode("utf-8", "replace"))
    return None


def _header(message: Message | None, name: str) -> str | None:
    if message is None:
        return None
    value = _unfold(message.get(name))
    return value or None


def _unfold(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _typed_value(value: object) -> str:
    """`rfc822; anna@example.org` -> `anna@example.org` (the address type is dropped)."""
    text = _unfold(value)
    return text.partition(";")[2].strip() if ";" in text else text


def _event_type(recipient: DsnRecipient) -> ProviderEventType | None:
    if recipient.action in ("delivered", "relayed"):
        return ProviderEventType.DELIVERED
    if recipient.action != "failed":
        return None  # delayed, expanded: the MTA has not given up, nothing is final yet
    return ProviderEventType.FAILED if recipient.hard is None else ProviderEventType.BOUNCED


def _detail(recipient: DsnRecipient) -> str:
    hard = recipient.hard
    flag = "" if hard is None else ("hard" if hard else "soft")
    parts = [flag, recipient.status or "no status", recipient.recipient]
    text = " ".join(p for p in parts if p)
    return f"{text}: {recipient.diagnostic_code}" if recipient.diagnostic_code else text
