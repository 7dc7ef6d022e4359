"""The event types a webhook endpoint may subscribe to, and `emit_event`, the one way to raise them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from ccm.database import utcnow
from ccm.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEventType(StrEnum):
    """Every event an endpoint may subscribe to: the one list the API, `emit_event` and the docs read."""

    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_BOUNCED = "message.bounced"
    MESSAGE_OPENED = "message.opened"
    MESSAGE_CLICKED = "message.clicked"
    CUSTOMER_UNSUBSCRIBED = "customer.unsubscribed"
    CONSENT_CHANGED = "consent.changed"
    FEEDBACK_RECEIVED = "feedback.received"


EVENT_TYPES = frozenset(WebhookEventType)
ENABLED_ENDPOINTS = select(WebhookEndpoint.id, WebhookEndpoint.events).where(col(WebhookEndpoint.enabled))
"""Built once: every tracked click and open runs it, and a statement built per call pays for its cache key."""


def emit_event(session: Session, type: str, payload: dict[str, Any]) -> int:
    """Queue `type` for every enabled endpoint subscribed to it, in the caller's transaction, so the
    event commits (or rolls back) with the change it reports. Returns how many deliveries were queued."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type '{type}'")
    endpoints = session.exec(ENABLED_ENDPOINTS).all()
    now = utcnow()
    body = {"type": type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": payload}
    queued = 0
    for endpoint_id, events in endpoints:
        if type in events and endpoint_id is not None:
            session.add(_delivery(endpoint_id, type, body))
            queued += 1
    return queued


def _delivery(endpoint_id: int, type: str, body: dict[str, Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint_id, event_type=type, payload=body
    )
