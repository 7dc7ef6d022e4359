"""`/v1/webhook-endpoints`: admins subscribe a URL to events and watch its deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.webhooks import service
from ccm.webhooks.models import WebhookEndpoint
from ccm.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointCreate,
    EndpointList,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])
Admin = Annotated[ApiKey, Depends(require(Permission.WEBHOOKS_MANAGE))]
EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 24 * 7


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint, from_attributes=True)


def with_secret(endpoint: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.post("", status_code=201, response_model=EndpointWithSecret, responses={422: {}})
def create(
    request: EndpointCreate, session: SessionDep, settings: SettingsDep, _caller: Admin
) -> EndpointWithSecret:
    """Subscribe a URL; the `whsec_` secret is in this response and never shown again."""
    return with_secret(service.create_endpoint(session, request, settings.webhook_allowed_hosts))


@router.get("", response_model=EndpointList)
def list_all(session: ReadSessionDep, _caller: Admin) -> EndpointList:
    return EndpointList(endpoints=[endpoint_out(e) for e in service.list_endpoints(session)])


@router.get("/{endpoint_id}", response_model=EndpointOut, responses={404: {}})
def get(endpoint_id: EndpointId, session: ReadSessionDep, _caller: Admin) -> EndpointOut:
    return endpoint_out(service.get_endpoint(session, endpoint_id))


@router.patch("/{endpoint_id}", response_model=EndpointOut, responses={404: {}, 422: {}})
def update(
    endpoint_id: EndpointId,
    request: EndpointUpdate,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Admin,
) -> EndpointOut:
    """Change URL, events or description; `enabled: true` re-enables an endpoint disabled after failures."""
    return endpoint_out(
        service.update_endpoint(session, endpoint_id, request, settings.webhook_allowed_hosts)
    )


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, responses={404: {}})
def delete(endpoint_id: EndpointId, session: SessionDep, _caller: Admin) -> Response:
    service.delete_endpoint(session, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret, responses={404: {}, 422: {}})
def rotate(
    endpoint_id: EndpointId,
    session: SessionDep,
    _caller: Admin,
    grace_hours: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_GRACE_HOURS,
            description="hours the old secret keeps signing beside the new one (0: it stops at once)",
        ),
    ] = DEFAULT_GRACE_HOURS,
) -> EndpointWithSecret:
    """Issue a new secret (shown once); deliveries carry a signature under each secret during the grace."""
    return with_secret(service.rotate_secret(session, endpoint_id, timedelta(hours=grace_hours)))


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList, responses={404: {}})
def deliveries(
    endpoint_id: EndpointId,
    session: ReadSessionDep,
    _caller: Admin,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> DeliveryList:
    """Recent deliveries: attempts made, the last status code and error, when the next attempt is due."""
    items = service.list_deliveries(session, endpoint_id, limit)
    return DeliveryList(deliveries=[DeliveryOut.model_validate(d, from_attributes=True) for d in items])
