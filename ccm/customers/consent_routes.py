"""HTTP for a customer's consent: the current state per channel and topic with its history, and changes
from the CRM (each recorded with its source)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import service
from ccm.customers.consent import apply_changes, consent_view
from ccm.customers.consent_schemas import ConsentOut, ConsentUpdate
from ccm.customers.routes import ExternalId
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_WRITE))]


@router.get("/{external_id}/consent", response_model=ConsentOut, responses={404: {}})
def get_consent(
    external_id: ExternalId, session: ReadSessionDep, settings: SettingsDep, _caller: Reader
) -> ConsentOut:
    customer = service.get_customer(session, external_id)
    return consent_view(session, customer, double_opt_in_email=settings.double_opt_in_email)


@router.put("/{external_id}/consent", response_model=ConsentOut, responses={404: {}})
def put_consent(
    external_id: ExternalId,
    request: ConsentUpdate,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Writer,
) -> ConsentOut:
    """Set consents (a topic on a channel, or a whole channel); unchanged ones add no history."""
    customer = service.get_customer(session, external_id)
    apply_changes(session, customer, request)
    return consent_view(session, customer, double_opt_in_email=settings.double_opt_in_email)
