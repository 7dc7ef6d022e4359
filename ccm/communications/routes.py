"""HTTP for sends: `POST /v1/messages` answers 202 only once the messages are committed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.communications import idempotency, service
from ccm.communications.models import Message
from ccm.communications.schemas import (
    ArchiveReference,
    MessageCreate,
    MessageEvent,
    MessageOut,
    MessagesAccepted,
)
from ccm.compliance.service import find_entry
from ccm.customers.models import Customer
from ccm.dependencies import RuntimeDep, SessionDep, SettingsDep, require
from ccm.engagement.links import EngagementLinks
from ccm.engagement.models import Event

router = APIRouter(prefix="/v1/messages", tags=["messages"])
Sender = Annotated[ApiKey, Depends(require(Permission.MESSAGES_SEND))]
Reader = Annotated[ApiKey, Depends(require(Permission.MESSAGES_READ))]
MessageId = Annotated[str, Path(min_length=1, max_length=36)]


@router.post(
    "",
    status_code=202,
    response_model=MessagesAccepted,
    responses={
        409: {"description": "same Idempotency-Key in flight"},
        422: {"description": "invalid request"},
    },
)
def send_message(
    request: MessageCreate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Sender,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    key = idempotency.validate_key(idempotency_key) if idempotency_key is not None else None
    outcome = service.send(session, request, settings=settings, idempotency_key=key, api_key_id=caller.id)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    session.commit()  # committed before the client hears 202
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get("/{message_id}", response_model=MessageOut)
def get_message(
    message_id: MessageId, session: SessionDep, runtime: RuntimeDep, _caller: Reader
) -> MessageOut:
    links = EngagementLinks(runtime.settings.base_url, runtime.tokens)
    return message_out(session, service.get_message(session, message_id), links)


def message_out(session: Session, message: Message, links: EngagementLinks) -> MessageOut:
    """The message with its events, archive reference and, for documents, the customer's signed link."""
    customer = session.get(Customer, message.customer_id)
    entry = find_entry(session, message.id)
    events = session.exec(select(Event).where(Event.message_id == message.id).order_by(col(Event.id))).all()
    return MessageOut(
        id=message.id,
        template=message.template_key,
        template_version=message.template_version,
        category=message.category,
        channel=message.channel,
        customer_id=customer.external_id if customer else "",
        recipient=message.recipient,
        status=message.status,
        attempts=message.attempts,
        send_at=message.send_at,
        next_attempt_at=message.next_attempt_at if message.status == "queued" else None,
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        last_error=message.last_error,
        created_at=message.created_at,
        sent_at=message.sent_at,
        archive=ArchiveReference(
            sha256=entry.sha256,
            size=entry.size,
            content_type=entry.content_type,
            url=f"/v1/archive/{message.id}",
        )
        if entry
        else None,
        document_url=links.document_url(message.id) if message.channel == "pdf" and entry else None,
        events=[MessageEvent(type=e.type, occurred_at=e.occurred_at, detail=e.detail) for e in events],
    )
