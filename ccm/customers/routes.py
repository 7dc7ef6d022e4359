"""HTTP for customer records: upsert from the CRM (one or a batch), search and page them, read one with
consent and engagement, its profile (engagement metrics, last survey answer, segments), the timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import service
from ccm.customers.batch import upsert_batch
from ccm.customers.cursor import MAX_CURSOR
from ccm.customers.profile import customer_profile
from ccm.customers.profile_schemas import CustomerProfile
from ccm.customers.records import customer_out, customers_out
from ccm.customers.schemas import (
    CustomerBatchRequest,
    CustomerBatchResponse,
    CustomerList,
    CustomerOut,
    CustomerUpsert,
    Timeline,
)
from ccm.customers.search import MAX_PAGE, MAX_QUERY, CustomerSearch, search_page
from ccm.dependencies import ReadSessionDep, SessionDep, require
from ccm.engagement.service import timeline

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_WRITE))]
ExternalId = Annotated[
    str,
    Path(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]*$", description="The CRM's id"
    ),
]
SearchText = Annotated[
    str,
    Query(
        max_length=MAX_QUERY,
        pattern=r"^[^\x00]*$",
        description="words each found customer contains in external id, email, phone, first or last name",
    ),
]
AttributeFilter = Annotated[
    str | None,
    Query(
        max_length=300,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}:[^\x00]{0,200}$",
        description="`name:value`: the string attribute `name` is exactly `value`",
    ),
]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR, description="the `next_cursor` of the previous page")
]


@router.get("", response_model=CustomerList, responses={422: {"description": "bad query or cursor"}})
def list_customers(
    session: ReadSessionDep,
    _caller: Reader,
    q: SearchText = "",
    attribute: AttributeFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Cursor = None,
) -> CustomerList:
    """Customers by external id, searched and paged by cursor (stable while records are added)."""
    page = search_page(session, CustomerSearch(q, _name_value(attribute)), cursor=cursor, limit=limit)
    return CustomerList(customers=customers_out(session, page.customers), next_cursor=page.next_cursor)


def _name_value(attribute: str | None) -> tuple[str, str] | None:
    if attribute is None:
        return None
    name, _, value = attribute.partition(":")
    return name, value


@router.post(
    ":batch",
    response_model=CustomerBatchResponse,
    responses={413: {"description": "body over the size limit"}},
)
def upsert_customers(
    request: CustomerBatchRequest, session: SessionDep, _caller: Writer
) -> CustomerBatchResponse:
    """Up to 1,000 upserts in one call (a CRM's sync), each created, updated or refused on its own."""
    results = upsert_batch(session, request.customers)
    session.commit()  # committed before the client hears the results
    return CustomerBatchResponse(results=results)


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


@router.get("/{external_id}/profile", response_model=CustomerProfile, responses={404: {}})
def get_profile(external_id: ExternalId, session: ReadSessionDep, _caller: Reader) -> CustomerProfile:
    """Engagement metrics (last human open and click, 30- and 90-day email open and click rates), the
    newest NPS or CSAT answer, and the saved segments the customer is in now."""
    return customer_profile(session, service.get_customer(session, external_id))
