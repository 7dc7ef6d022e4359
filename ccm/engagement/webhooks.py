"""Inbound provider events, verified before anything is read from them, mapped onto messages."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlmodel import select

from ccm.communications.models import Message, MessageStatus
from ccm.dependencies import RuntimeDep, SessionDep
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.errors import ApiError, Forbidden, NotFound
from ccm.settings import SmsProviderName
from delivery import EventType as ProviderEventType
from delivery import parse_status_callback, verify_twilio_signature

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

STATUS_FOR_EVENT = {
    ProviderEventType.DELIVERED: (MessageStatus.DELIVERED, EventType.DELIVERED),
    ProviderEventType.UNDELIVERED: (MessageStatus.FAILED, EventType.FAILED),
    ProviderEventType.FAILED: (MessageStatus.FAILED, EventType.FAILED),
    ProviderEventType.BOUNCED: (MessageStatus.BOUNCED, EventType.BOUNCED),
}


@router.post("/twilio/status", status_code=204, response_class=Response, responses={403: {}, 404: {}})
async def twilio_status(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    signature: str = Header(default="", alias="X-Twilio-Signature", max_length=200),
) -> Response:
    """Twilio's status callback: signature first (X-Twilio-Signature over our callback URL and the form)."""
    settings = runtime.settings
    if settings.sms_provider is not SmsProviderName.TWILIO or not settings.twilio_auth_token:
        raise NotFound("no Twilio provider is configured", code="not_configured")
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    callback_url = f"{settings.base_url}/webhooks/twilio/status"
    if not verify_twilio_signature(callback_url, params, signature, settings.twilio_auth_token):
        raise Forbidden("invalid X-Twilio-Signature", code="invalid_signature")
    try:
        event = parse_status_callback(params)
    except ValueError as error:
        raise ApiError(str(error), code="invalid_callback") from error
    message = session.exec(
        select(Message).where(Message.provider_message_id == event.provider_message_id)
    ).first()
    if message is None:
        raise NotFound("no message with that provider id", code="message_not_found")
    transition = STATUS_FOR_EVENT.get(event.type)
    if transition is not None:
        status, event_type = transition
        message.status = status
        session.add(message)
        record_event(
            session,
            customer_id=message.customer_id,
            type=event_type,
            message_id=message.id,
            channel=message.channel,
            detail={"provider": event.provider, "detail": event.detail},
        )
    return Response(status_code=204)
