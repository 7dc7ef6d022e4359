"""`GET /v1/customers/{external_id}/journeys`: the journeys a customer is in, and where. Served by the
journeys domain because customers sit below it in the layers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers.routes import ExternalId
from ccm.customers.service import get_customer
from ccm.dependencies import ReadSessionDep, require
from ccm.journeys.places import customer_runs
from ccm.journeys.schemas import CustomerRuns

router = APIRouter(prefix="/v1/customers", tags=["journeys"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]


@router.get("/{external_id}/journeys", response_model=CustomerRuns, responses={404: {}})
def customer_journeys(external_id: ExternalId, session: ReadSessionDep, _caller: Reader) -> CustomerRuns:
    """The customer's newest runs (at most 20): journey, version, status and the step they are at."""
    return CustomerRuns(runs=customer_runs(session, get_customer(session, external_id)))
