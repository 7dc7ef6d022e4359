"""Provider events (delivery reports, bounces, complaints) applied to messages and the customer record.

One mapping for every source — Twilio callbacks, SES notifications via SNS, SMTP bounce messages (DSNs) and
synchronous refusals at hand-off — so a hard bounce means the same thing wherever it came from.
"""

from __future__ import annotations

from sqlmodel import Session, select

from ccm.channels import get_channel
from ccm.communications.models import Message, MessageStatus
from ccm.customers.models import Customer
from ccm.customers.service import unsubscribe
from ccm.customers.suppression import suppress
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.validation import is_uuid
from delivery import ProviderEvent, ProviderEventType

FINAL_AFTER_SEND = (MessageStatus.SENT, MessageStatus.DELIVERED)


def find_message(session: Session, reference: str) -> Message | None:
    """By provider message id, or by our own id (a DSN quotes X-CCM-Message-Id)."""
    message = session.exec(select(Message).where(Message.provider_message_id == reference)).first()
    if message is None and is_uuid(reference):
        message = session.get(Message, reference)
    if message is None and reference.startswith("<") and "@" in reference:
        local = reference[1:].split("@", 1)[0]  # our Message-IDs are <message id@domain>
        message = session.get(Message, local) if is_uuid(local) else None
    return message


def is_hard(event: ProviderEvent) -> bool:
    return event.detail.startswith("hard") or event.raw.get("bounce") == "hard"


def apply_provider_event(session: Session, event: ProviderEvent) -> Message | None:
    """Apply one event; returns the message it concerned, or None when no message matches."""
    message = find_message(session, event.provider_message_id)
    if message is None:
        return None
    detail = {"provider": event.provider, "detail": event.detail}
    if event.type is ProviderEventType.DELIVERED:
        if message.status in FINAL_AFTER_SEND:
            message.status = MessageStatus.DELIVERED
        record_message_event(session, message, EventType.DELIVERED, detail)
    elif event.type in (ProviderEventType.FAILED, ProviderEventType.UNDELIVERED):
        message.status = MessageStatus.FAILED
        record_message_event(session, message, EventType.FAILED, detail)
    elif event.type is ProviderEventType.BOUNCED:
        hard = is_hard(event)
        record_message_event(
            session, message, EventType.BOUNCED, {**detail, "bounce": "hard" if hard else "soft"}
        )
        if hard:
            message.status = MessageStatus.BOUNCED
            suppress_recipient(
                session, message, reason="hard_bounce", detail=event.detail, source=event.provider
            )
    elif event.type is ProviderEventType.COMPLAINED:
        record_message_event(session, message, EventType.COMPLAINED, detail)
        suppress_recipient(session, message, reason="complaint", detail=event.detail, source=event.provider)
        customer = session.get(Customer, message.customer_id)
        if customer is not None:
            unsubscribe(
                session,
                customer,
                message.channel,
                source=f"complaint:{event.provider}",
                message_id=message.id,
            )
    session.add(message)
    session.flush()
    return message


def suppress_recipient(session: Session, message: Message, *, reason: str, detail: str, source: str) -> None:
    if not get_channel(message.channel).suppressible or not message.recipient:
        return
    added = suppress(
        session,
        channel=message.channel,
        address=message.recipient,
        reason=reason,
        detail=detail,
        source=source,
        message_id=message.id,
    )
    if added:
        record_message_event(
            session, message, EventType.SUPPRESSED, {"reason": reason, "address": message.recipient}
        )
