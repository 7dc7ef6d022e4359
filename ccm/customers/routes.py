"""HTTP for customer records: upsert from the CRM, read with consent and engagement, the timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlmodel import Session

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import service
from ccm.customers.models import Customer
from ccm.customers.schemas import Consent, CustomerOut, CustomerUpsert, Timeline
from ccm.dependencies import ReadSessionDep, SessionDep, require
from ccm.engagement.service import engagement_summary, timeline

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_WRITE))]
ExternalId = Annotated[
    str,
    Path(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]*$", description="The CRM's id"
    ),
]


def customer_out(session: Session, customer: Customer) -> CustomerOut:
    return CustomerOut(
        external_id=customer.external_id,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        timezone=customer.timezone,
        attributes=customer.attributes,
        consent=Consent(unsubscribed_channels=service.unsubscribed_channels(session, customer)),
        engagement=engagement_summary(session, customer.id),
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


@router.put("/{external_id}", response_model=CustomerOut)
def upsert_customer(
    external_id: ExternalId, request: CustomerUpsert, session: SessionDep, response: Response, _caller: Writer
) -> CustomerOut:
    customer, created = service.upsert_customer(session, external_id, request)
    response.status_code = 201 if created else 200
    return customer_out(session, customer)


@router.get("/{external_id}", response_model=CustomerOut)
def get_customer(external_id: ExternalId, session: ReadSessionDep, _caller: Reader) -> CustomerOut:
    return customer_out(session, service.get_customer(session, external_id))


@router.get("/{external_id}/timeline", response_model=Timeline)
def get_timeline(
    external_id: ExternalId,
    session: ReadSessionDep,
    _caller: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Timeline:
    customer = service.get_customer(session, external_id)
    events, next_before = timeline(session, customer.id, limit=limit, before_id=before_id)
    return Timeline(external_id=external_id, events=events, next_before_id=next_before)
