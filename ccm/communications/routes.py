"""HTTP for sends: `POST /v1/messages` answers 202 only once the messages are committed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission, allows
from ccm.archiving.service import find_entry
from ccm.channels.parts import ChannelKey
from ccm.communications import idempotency, service
from ccm.communications.models import Message, MessageStatus
from ccm.communications.schemas import (
    ArchiveReference,
    BatchRequest,
    BatchResponse,
    MessageCreate,
    MessageEvent,
    MessageOut,
    MessagePage,
    MessagesAccepted,
    MessageSummary,
)
from ccm.customers.models import Customer
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.engagement.links import EngagementLinks, LinksDep
from ccm.engagement.models import Event

router = APIRouter(prefix="/v1/messages", tags=["messages"])
Sender = Annotated[ApiKey, Depends(require(Permission.MESSAGES_SEND, writes=True))]
Reader = Annotated[ApiKey, Depends(require(Permission.MESSAGES_READ))]
MessageId = Annotated[str, Path(min_length=1, max_length=36)]
PDF = "application/pdf"


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
    plan = service.plan_send(session, request, settings=settings, idempotency_key=key, api_key_id=caller.id)
    if plan.replay is None and plan.render_check:
        session.commit()  # no database lock is held while the author's template renders
        service.check_plan(settings, plan)
    # a plan whose data contract covers its parts renders nothing here: one short transaction in all
    outcome = service.queue_planned(session, plan, settings=settings, api_key_id=caller.id)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    session.commit()  # committed before the client hears 202
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.post(
    ":batch",
    response_model=BatchResponse,
    responses={413: {"description": "body over the size limit"}},
)
def send_batch(
    request: BatchRequest, session: SessionDep, settings: SettingsDep, caller: Sender
) -> BatchResponse:
    """Up to 1,000 sends in one call (billing runs), each with its own idempotency key and result."""
    result = service.send_batch(
        session, request.messages, settings=settings, api_key_id=caller.id, release=session.commit
    )
    session.commit()
    return result


@router.get("", response_model=MessagePage)
def list_messages(
    session: ReadSessionDep,
    _caller: Reader,
    status: MessageStatus | None = None,
    channel: ChannelKey | None = None,
    template: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MessagePage:
    """Recent messages, filtered; `status=failed` is the dead-letter view."""
    messages = service.list_messages(
        session,
        status=status.value if status else None,
        channel=channel,
        template=template,
        limit=limit,
        offset=offset,
    )
    return MessagePage(items=[message_summary(m) for m in messages], limit=limit, offset=offset)


@router.post("/{message_id}/cancel", response_model=MessageSummary, responses={409: {}})
def cancel_message(message_id: MessageId, session: SessionDep, _caller: Sender) -> MessageSummary:
    return message_summary(service.cancel(session, message_id))


@router.post("/{message_id}/requeue", response_model=MessageSummary, responses={409: {}})
def requeue_message(
    message_id: MessageId, session: SessionDep, settings: SettingsDep, _caller: Sender
) -> MessageSummary:
    return message_summary(service.requeue(session, message_id, settings=settings))


def message_summary(message: Message) -> MessageSummary:
    return MessageSummary(
        id=message.id,
        template=message.template_key,
        channel=message.channel,
        recipient=message.recipient,
        status=message.status,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        deadline_at=message.deadline_at,
    )


@router.get("/{message_id}", response_model=MessageOut)
def get_message(
    message_id: MessageId, session: ReadSessionDep, links: LinksDep, caller: Reader
) -> MessageOut:
    message = service.get_message(session, message_id)
    return message_out(session, message, links if may_link_documents(caller) else None)


def may_link_documents(caller: ApiKey) -> bool:
    """A document is archive data: senders hand its link to the customer, compliance and admin keep the
    archive; other readers (marketers) see the message without it."""
    return allows(caller.role, Permission.MESSAGES_SEND) or allows(caller.role, Permission.ARCHIVE_READ)


def message_out(session: Session, message: Message, links: EngagementLinks | None) -> MessageOut:
    """The message with its events, archive reference and, for documents, the customer's signed link
    (only given `links`)."""
    customer = session.get(Customer, message.customer_id)
    entry = find_entry(session, message.id)
    events = session.exec(select(Event).where(Event.message_id == message.id).order_by(col(Event.id))).all()
    document_links = links if entry and entry.content_type == PDF else None
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
        document_url=document_links.document_url(message.id) if document_links else None,
        events=[MessageEvent(type=e.type, occurred_at=e.occurred_at, detail=e.detail) for e in events],
    )
