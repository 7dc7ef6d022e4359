"""Inbound provider events, verified before anything is read from them, mapped onto messages."""

from __future__ import annotations

import logging
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.communications.provider_events import apply_provider_event
from ccm.dependencies import SessionDep, SettingsDep, require, runtime_part
from ccm.errors import ApiError, Forbidden, NotFound
from ccm.settings import Settings
from delivery import (
    SnsMessageVerifier,
    SnsVerificationError,
    dsn_events,
    parse_ses_event,
    parse_status_callback,
    verify_twilio_signature,
)

router = APIRouter(tags=["webhooks"])
logger = logging.getLogger(__name__)
MAX_DSN_BYTES = 512 * 1024
SnsVerifierDep = Annotated[SnsMessageVerifier, Depends(runtime_part("sns_verifier"))]


async def verified_twilio_form(
    request: Request, settings: Settings, signature: str, path: str
) -> dict[str, str]:
    """The form Twilio posted to our `path`, once its X-Twilio-Signature checks out (403 otherwise; 404 when
    no Twilio provider is configured): every Twilio callback, status and inbound SMS, starts here."""
    if not settings.twilio_auth_token:
        raise NotFound("no Twilio provider is configured", code="not_configured")
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    url = f"{settings.base_url}{path}"
    if not verify_twilio_signature(url, params, signature, settings.twilio_auth_token):
        raise Forbidden("invalid X-Twilio-Signature", code="invalid_signature")
    return params


@router.post(
    "/webhooks/twilio/status", status_code=204, response_class=Response, responses={403: {}, 404: {}}
)
async def twilio_status(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    signature: str = Header(default="", alias="X-Twilio-Signature", max_length=200),
) -> Response:
    """Twilio's status callback: signature first (X-Twilio-Signature over our callback URL and the form)."""
    params = await verified_twilio_form(request, settings, signature, "/webhooks/twilio/status")
    try:
        event = parse_status_callback(params)
    except ValueError as error:
        raise ApiError(str(error), code="invalid_callback") from error
    if apply_provider_event(session, event) is None:
        raise NotFound("no message with that provider id", code="message_not_found")
    return Response(status_code=204)


@router.post("/webhooks/ses", responses={200: {}, 400: {}, 403: {}, 404: {}})
async def ses_notification(
    request: Request, settings: SettingsDep, verifier: SnsVerifierDep, session: SessionDep
) -> JSONResponse:
    """SES events delivered by SNS: the SNS signature (and topic) is verified before the event is read.

    Without `CCM_SNS_TOPIC_ARNS` nothing is accepted: a signature only proves a message came from *some*
    SNS topic, which anyone with an AWS account can own. Verifying may download the signing certificate,
    so it runs in a worker thread, never on the event loop.
    """
    if not settings.sns_topic_arns:
        raise NotFound(
            "no SNS topic is configured for SES events (CCM_SNS_TOPIC_ARNS)", code="not_configured"
        )
    body = await request.body()
    try:
        sns = await run_in_threadpool(verifier.verify_body, body)
    except SnsVerificationError as error:
        raise Forbidden(f"SNS message refused: {error}", code="invalid_signature") from error
    except ValueError as error:
        raise ApiError(f"not an SNS message: {error}", code="invalid_notification") from error
    if sns.type == "SubscriptionConfirmation" and sns.subscribe_url:
        confirmed = await run_in_threadpool(_confirm_subscription, sns.subscribe_url)
        return JSONResponse({"subscription": "confirmed" if confirmed else "confirmation failed"})
    if sns.type != "Notification":
        return JSONResponse({"applied": 0})
    try:
        events = parse_ses_event(sns.message)
    except ValueError as error:
        raise ApiError(
            f"SNS notification carries no SES event: {error}", code="invalid_notification"
        ) from error
    applied = sum(1 for event in events if apply_provider_event(session, event) is not None)
    return JSONResponse({"applied": applied, "events": len(events)})


def _confirm_subscription(url: str) -> bool:
    """GET the SubscribeURL (already checked to be an SNS host) to start receiving notifications."""
    try:
        return httpx.get(url, timeout=10).is_success
    except httpx.HTTPError:
        logger.warning("SNS subscription confirmation failed", exc_info=True)
        return False


@router.post(
    "/v1/bounces",
    tags=["bounces"],
    responses={200: {}, 400: {"description": "not a delivery status notification"}},
    openapi_extra={
        "requestBody": {
            "description": "the bounce as received (as message/rfc822 or application/octet-stream)",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def ingest_bounce(
    request: Request,
    session: SessionDep,
    _caller: Annotated[ApiKey, Depends(require(Permission.SUPPRESSIONS_WRITE))],
) -> JSONResponse:
    """An SMTP bounce (RFC 3464 DSN) as the MTA delivered it, e.g. piped from the bounce mailbox."""
    body = await request.body()
    if len(body) > MAX_DSN_BYTES:
        raise ApiError(f"a bounce message over {MAX_DSN_BYTES} bytes is not a DSN", code="invalid_dsn")
    try:
        events = dsn_events(body)
    except ValueError as error:
        raise ApiError(f"not a delivery status notification: {error}", code="invalid_dsn") from error
    applied = [message.id for e in events if (message := apply_provider_event(session, e)) is not None]
    return JSONResponse({"events": len(events), "applied": len(applied), "message_ids": applied})
