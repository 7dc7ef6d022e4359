"""Managing webhook endpoints: create (issuing the secret), change, re-enable, rotate, delete."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from ccm.database import utcnow
from ccm.errors import NotFound, Unprocessable
from ccm.webhooks.addresses import UnsafeUrl, check_url
from ccm.webhooks.models import WebhookDelivery, WebhookEndpoint
from ccm.webhooks.schemas import EndpointCreate, EndpointUpdate
from delivery.standard_webhooks import generate_secret

MAX_DELIVERIES_LISTED = 100


def vet_url(url: str, allowed_hosts: Collection[str]) -> None:
    """422 `unsafe_url` naming the problem when a URL may not receive webhooks."""
    try:
        check_url(url, allowed_hosts)
    except UnsafeUrl as error:
        raise Unprocessable(str(error), field="url", code="unsafe_url") from error


def create_endpoint(
    session: Session, request: EndpointCreate, allowed_hosts: Collection[str]
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    vet_url(request.url, allowed_hosts)
    endpoint = WebhookEndpoint(
        url=request.url,
        events=[str(event) for event in dict.fromkeys(request.events)],
        description=request.description,
        secret=generate_secret(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found", code="endpoint_not_found")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))).all())


def update_endpoint(
    session: Session, endpoint_id: int, request: EndpointUpdate, allowed_hosts: Collection[str]
) -> WebhookEndpoint:
    """Change what was sent; enabling clears the failure record so the endpoint gets a fresh start."""
    endpoint = get_endpoint(session, endpoint_id)
    if request.url is not None:
        vet_url(request.url, allowed_hosts)
        endpoint.url = request.url
    if request.events is not None:
        endpoint.events = [str(event) for event in dict.fromkeys(request.events)]
    if request.description is not None:
        endpoint.description = request.description
    if request.enabled is not None:
        endpoint.enabled = request.enabled
        endpoint.disabled_reason = None if request.enabled else "disabled by an admin"
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    return endpoint


def rotate_secret(session: Session, endpoint_id: int, grace: timedelta) -> WebhookEndpoint:
    """A new secret at once; the old one keeps signing beside it for `grace`.

    Receivers switch secrets on their own schedule: during the grace period every delivery carries a signature
    under each secret (Standard Webhooks allows several), so none is refused while the new secret is rolled
    out. A zero grace drops the old secret at once (after a leak, say); rotating again replaces the previous
    one.
    """
    endpoint = get_endpoint(session, endpoint_id)
    now = utcnow()
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = generate_secret()
    endpoint.updated_at = now
    session.add(endpoint)
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int) -> None:
    """The endpoint and its deliveries, sent or not."""
    endpoint = get_endpoint(session, endpoint_id)
    session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id))
    session.delete(endpoint)


def list_deliveries(
    session: Session, endpoint_id: int, limit: int = MAX_DELIVERIES_LISTED
) -> list[WebhookDelivery]:
    """The newest deliveries of an endpoint with their attempts, last status and error."""
    get_endpoint(session, endpoint_id)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(col(WebhookDelivery.created_at).desc())
        .limit(limit)
    )
    return list(session.exec(statement).all())
