"""Inbound SMS (`POST /webhooks/twilio/inbound`): STOP, START and HELP texted to our number, and a
number answering a survey SMS (`ccm.communications.survey_replies`).

The request is verified by its X-Twilio-Signature first (403 otherwise). STOP opts every customer with
the sending number out of marketing SMS and START back in (recorded in their consent history with the
source `sms-keyword`); each keyword is answered with one SMS from the starter template `sms-replies`, in
the customer's locale, queued through the ordinary send path as a transactional message, so it is
rendered, archived and delivered like any other. A number no customer has gets no answer. Twilio is
answered with empty TwiML: the reply goes out through the outbox, not in the webhook's response.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ccm.communications import service
from ccm.communications.schemas import MessageCreate
from ccm.communications.sms_keywords import Keyword, keyword_of
from ccm.communications.survey_replies import answer_survey
from ccm.communications.webhooks import verified_twilio_form
from ccm.customers.consent import customers_with_phone, set_channel
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.errors import ApiError
from ccm.settings import Settings

router = APIRouter(tags=["webhooks"])
logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REPLY_TEMPLATE = "sms-replies"
SOURCE = "sms-keyword"


@router.post(
    "/webhooks/twilio/inbound",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}, 403: {}, 404: {}},
)
async def twilio_inbound(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    signature: str = Header(default="", alias="X-Twilio-Signature", max_length=200),
) -> Response:
    """Twilio's incoming-message webhook: signature first, then the keyword, then one queued reply."""
    params = await verified_twilio_form(request, settings, signature, "/webhooks/twilio/inbound")
    body = params.get("Body", "")[:1600]
    keyword = keyword_of(body[:160])
    customers = customers_with_phone(session, params.get("From", "")[:20])
    if keyword is not None and customers:
        _apply(session, keyword, customers)
        await _reply(session, settings, keyword, customers[0])
    elif customers:
        answer_survey(session, customers, body)
    return Response(EMPTY_TWIML, media_type="text/xml")


def _apply(session: Session, keyword: Keyword, customers: list[Customer]) -> None:
    """STOP and START speak for every customer with the number (a shared family phone included)."""
    if keyword == Keyword.HELP:
        return
    for customer in customers:
        assert customer.id is not None
        changed = set_channel(session, customer, "sms", keyword == Keyword.START, source=SOURCE)
        if changed and keyword == Keyword.STOP:  # on the timeline as a link's opt-out is; START in history
            record_event(
                session,
                customer_id=customer.id,
                type=EventType.UNSUBSCRIBED,
                channel="sms",
                detail={"source": SOURCE},
            )


async def _reply(session: Session, settings: Settings, keyword: Keyword, customer: Customer) -> None:
    """One transactional SMS through the ordinary send path; a refused one (a suppressed number) is logged."""
    request = MessageCreate(
        template=REPLY_TEMPLATE, customer_id=customer.external_id, channels=["sms"], data={"reply": keyword}
    )
    try:
        plan = service.plan_send(session, request, settings=settings, idempotency_key=None, api_key_id=None)
        session.commit()  # the opt-out holds whatever the reply meets; no lock is held while it renders
        await run_in_threadpool(service.check_plan, settings, plan)
        service.queue_planned(session, plan, settings=settings, api_key_id=None)
    except ApiError as error:
        logger.warning("no %s reply to customer %s: %s", keyword, customer.external_id, error)
