"""Campaign test helpers: a marketing template, customers through the API, the fan-out run directly."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.campaigns.fanout import BatchHook, fan_out
from ccm.communications.models import Message
from ccm.database import session_scope
from tests.ccm.conftest import Service, publish_reviewed

PROMO = {
    "key": "promo",
    "name": "Promotion",
    "category": "marketing",
    "parts": {
        "email": {
            "subject": "{{ offer }} for {{ customer.first_name }}",
            "html": "<p>Hi {{ customer.first_name }}, {{ offer }}."
            " <a href='{{ unsubscribe_url }}'>Stop</a></p>",
        },
        "sms": {"text": "Hi {{ customer.first_name }}, {{ offer }}"},
    },
    "sample_data": {"customer": {"first_name": "Ada"}, "offer": "10% off"},
}


@pytest.fixture
def promo(service: Service) -> str:
    """A published marketing template with email and SMS parts that needs `customer.first_name`."""
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/templates", json=PROMO, headers=headers).status_code == 201
    publish_reviewed(service, "promo", 1)
    return "promo"


def add_customer(service: Service, external_id: str, **fields: Any) -> None:
    body: dict[str, Any] = {
        "email": f"{external_id}@example.com",
        "locale": "en",
        "timezone": "UTC",
        "attributes": {"first_name": external_id.title()},
    }
    body.update(fields)
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def create_campaign(service: Service, **body: Any) -> dict[str, Any]:
    payload = {"name": "Spring", "template": "promo", "channels": ["email"], "data": {"offer": "20% off"}}
    payload.update(body)
    response = service.client.post("/v1/campaigns", json=payload, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def run_fan_out(
    service: Service, campaign_id: int, *, batch_size: int = 500, before_commit: BatchHook | None = None
) -> int:
    return fan_out(
        service.runtime.engine,
        campaign_id,
        service.settings,
        batch_size=batch_size,
        before_commit=before_commit,
    )


def campaign(service: Service, campaign_id: int) -> dict[str, Any]:
    response = service.client.get(f"/v1/campaigns/{campaign_id}", headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def messages_of(service: Service, campaign_id: int) -> list[Message]:
    with session_scope(service.runtime.engine) as session:
        statement = select(Message).where(Message.campaign_id == campaign_id).order_by(col(Message.recipient))
        return list(session.exec(statement).all())
