"""Double opt-in's confirmation email (`POST /v1/customers/{id}/consent/confirmation`): with
`CCM_DOUBLE_OPT_IN_EMAIL` on, marketing email waits until the customer follows a signed link sent to their
address. The CRM asks for the email when a customer signs up; it is the starter template
`consent-confirmation`, queued through the ordinary send path as a transactional message (so it is
rendered in the customer's language and archived), with the link the service signs in its data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.communications import service
from ccm.communications.schemas import MessageCreate, MessagesAccepted
from ccm.customers.consent import confirmed
from ccm.customers.routes import ExternalId
from ccm.customers.service import get_customer
from ccm.dependencies import SessionDep, SettingsDep, require
from ccm.engagement.links import LinksDep
from ccm.errors import Conflict

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Sender = Annotated[ApiKey, Depends(require(Permission.MESSAGES_SEND, writes=True))]
TEMPLATE = "consent-confirmation"


@router.post(
    "/{external_id}/consent/confirmation",
    status_code=202,
    response_model=MessagesAccepted,
    responses={404: {}, 409: {"description": "already confirmed"}, 422: {"description": "no email address"}},
)
def send_confirmation(
    external_id: ExternalId, session: SessionDep, settings: SettingsDep, links: LinksDep, caller: Sender
) -> JSONResponse:
    """Queue the confirmation email; 409 once the customer's email is confirmed."""
    customer = get_customer(session, external_id)
    if confirmed(session, customer, "email"):
        raise Conflict("the customer's email is already confirmed", code="already_confirmed")
    assert customer.id is not None
    data = {"confirm_url": links.confirm_url(customer.id, customer.email or "")}
    request = MessageCreate(template=TEMPLATE, customer_id=external_id, channels=["email"], data=data)
    plan = service.plan_send(session, request, settings=settings, idempotency_key=None, api_key_id=caller.id)
    session.commit()  # no lock is held while the template renders
    service.check_plan(settings, plan)
    outcome = service.queue_planned(session, plan, settings=settings, api_key_id=caller.id)
    return JSONResponse(outcome.body, status_code=outcome.status_code)
