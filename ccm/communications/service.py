"""Accepting sends: resolve template and customer, check consent and context, queue one row per channel.

Nothing is rendered for real here: the rows are the durable promise, and workers do the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from ccm.communications import idempotency
from ccm.communications.models import Message, MessageStatus
from ccm.communications.schemas import MessageCreate, MessagesAccepted, QueuedMessage
from ccm.customers.models import Customer
from ccm.customers.service import get_customer, unsubscribed_channels
from ccm.database import utcnow
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.errors import NotFound, Unprocessable
from ccm.personalisation.context import build_context, context_digest, customer_context
from ccm.personalisation.render import RenderOptions, check_renders
from ccm.registry.models import Category, Template, TemplateVersion
from ccm.registry.service import get_template, published_version
from ccm.settings import Settings

PRIORITY = {Category.TRANSACTIONAL: 0, Category.MARKETING: 10}


@dataclass(frozen=True)
class SendOutcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def send(
    session: Session,
    request: MessageCreate,
    *,
    settings: Settings,
    idempotency_key: str | None,
    api_key_id: int | None,
) -> SendOutcome:
    body_hash = idempotency.request_hash(request.model_dump(mode="json"))
    if idempotency_key is not None:
        previous = idempotency.replay(session, idempotency_key, body_hash)
        if previous is not None:
            return SendOutcome(previous.response_status, previous.response_body, replayed=True)
    accepted = queue_messages(session, request, settings=settings)
    body = accepted.model_dump(mode="json")
    if idempotency_key is not None:
        idempotency.remember(
            session,
            key=idempotency_key,
            body_hash=body_hash,
            api_key_id=api_key_id,
            status=202,
            response=body,
            ttl_hours=settings.idempotency_ttl_hours,
        )
    return SendOutcome(202, body, replayed=False)


def queue_messages(session: Session, request: MessageCreate, *, settings: Settings) -> MessagesAccepted:
    template = get_template(session, request.template)
    version = published_version(session, template)
    if version is None:
        raise Unprocessable(
            f"template '{template.key}' has no published version", field="template", code="not_published"
        )
    customer = get_customer(session, request.customer_id)
    channels = _channels(version, request)
    _check_consent(session, template, customer, channels)
    context = build_context(customer_context(customer), request.data)
    options = RenderOptions(
        locale=customer.locale, timezone=customer.timezone, assets_dir=settings.assets_dir
    )
    check_renders(version.parts, channels, context, options)
    due = max(request.send_at, utcnow()) if request.send_at else utcnow()
    queued = [
        _queue_one(session, template, version, customer, channel, context, request.send_at, due)
        for channel in channels
    ]
    return MessagesAccepted(messages=queued)


def _channels(version: TemplateVersion, request: MessageCreate) -> list[str]:
    """Requested channels, or every part of the template (a PDF the email attaches is not also sent alone)."""
    parts = version.parts
    if request.channels is None:
        email = parts.get("email") or {}
        return [
            c for c in ("email", "sms", "pdf") if c in parts and not (c == "pdf" and email.get("attach_pdf"))
        ]
    missing = [channel.value for channel in request.channels if channel.value not in parts]
    if missing:
        raise Unprocessable(
            f"template has no {', '.join(missing)} part (it has: {', '.join(sorted(parts))})",
            field="channels",
            code="channel_not_in_template",
        )
    return [channel.value for channel in request.channels]


def _check_consent(session: Session, template: Template, customer: Customer, channels: list[str]) -> None:
    if "email" in channels and not customer.email:
        raise Unprocessable("customer has no email address", field="customer_id", code="no_email_address")
    if "sms" in channels and not customer.phone:
        raise Unprocessable("customer has no phone number", field="customer_id", code="no_phone_number")
    if template.category == Category.MARKETING:
        opted_out = set(unsubscribed_channels(session, customer)) & set(channels)
        if opted_out:
            raise Unprocessable(
                f"customer unsubscribed from marketing on {', '.join(sorted(opted_out))}",
                field="customer_id",
                code="unsubscribed",
            )


def _recipient(customer: Customer, channel: str) -> str:
    if channel == "email":
        return customer.email or ""
    if channel == "sms":
        return customer.phone or ""
    return customer.external_id


def _queue_one(
    session: Session,
    template: Template,
    version: TemplateVersion,
    customer: Customer,
    channel: str,
    context: dict[str, Any],
    send_at: datetime | None,
    due: datetime,
) -> QueuedMessage:
    assert customer.id is not None and version.id is not None
    message = Message(
        id=str(uuid.uuid4()),
        customer_id=customer.id,
        template_version_id=version.id,
        template_key=template.key,
        template_version=version.number,
        category=template.category,
        channel=channel,
        recipient=_recipient(customer, channel),
        status=MessageStatus.QUEUED,
        priority=PRIORITY[template.category],
        context=context,
        context_sha256=context_digest(context),
        send_at=send_at,
        next_attempt_at=due,
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        customer_id=customer.id,
        type=EventType.QUEUED,
        message_id=message.id,
        channel=channel,
        detail={"template": template.key, "version": version.number},
    )
    return QueuedMessage(id=message.id, channel=channel, status=message.status)


def get_message(session: Session, message_id: str) -> Message:
    message = session.get(Message, message_id) if _is_uuid(message_id) else None
    if message is None:
        raise NotFound(f"message '{message_id}' not found", field="message_id", code="message_not_found")
    return message


def list_messages(
    session: Session, *, status: str | None = None, channel: str | None = None, limit: int = 50
) -> list[Message]:
    statement = select(Message)
    if status:
        statement = statement.where(Message.status == status)
    if channel:
        statement = statement.where(Message.channel == channel)
    return list(session.exec(statement.order_by(col(Message.created_at).desc()).limit(limit)).all())


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
