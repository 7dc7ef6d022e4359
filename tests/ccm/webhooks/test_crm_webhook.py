"""`POST /webhooks/crm`: signed per Standard Webhooks, applied once per webhook-id, through the PUT path."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from delivery.standard_webhooks import generate_secret, signed_headers
from tests.ccm.conftest import Service, ServiceFactory

SECRET = generate_secret()
ANNA = {"external_id": "crm-1", "email": "Anna@Example.com", "locale": "de", "attributes": {"tier": "gold"}}


@pytest.fixture
def crm(service_factory: ServiceFactory) -> Service:
    return service_factory(crm_webhook_secret=SECRET)


def push(service: Service, document: Any, msg_id: str = "msg_1", **header_overrides: str) -> Any:
    body = json.dumps(document).encode()
    headers = signed_headers(SECRET, msg_id, body) | header_overrides
    return service.client.post("/webhooks/crm", content=body, headers=headers)


def customer(service: Service, external_id: str) -> Any:
    return service.client.get(f"/v1/customers/{external_id}", headers=service.headers())


def test_a_signed_upsert_creates_then_updates_the_customer(crm: Service) -> None:
    created = push(crm, {"type": "customer.upserted", "data": ANNA})
    assert created.status_code == 200, created.text
    assert created.json()["applied"] == [{"external_id": "crm-1", "status": "created"}]
    record = customer(crm, "crm-1").json()
    assert record["email"] == "anna@example.com" and record["attributes"] == {"tier": "gold"}
    changed = {**ANNA, "attributes": {"tier": "silver"}}
    updated = push(crm, [{"type": "customer.upserted", "data": changed}], msg_id="msg_2")
    assert updated.json()["applied"] == [{"external_id": "crm-1", "status": "updated"}]
    assert customer(crm, "crm-1").json()["attributes"] == {"tier": "silver"}


def test_a_replayed_webhook_id_is_acknowledged_but_not_applied_again(crm: Service) -> None:
    assert push(crm, {"type": "customer.upserted", "data": ANNA}, msg_id="msg_same").status_code == 200
    crm.client.put("/v1/customers/crm-1", json={"attributes": {"tier": "edited"}}, headers=crm.headers())
    replay = push(crm, {"type": "customer.upserted", "data": ANNA}, msg_id="msg_same")
    assert replay.status_code == 200 and replay.json()["replay"] is True and replay.json()["applied"] == []
    assert customer(crm, "crm-1").json()["attributes"] == {"tier": "edited"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"webhook-signature": "v1,AAAA"},
        {"webhook-timestamp": str(int(time.time()) - 600)},  # stale: outside the 5-minute tolerance
        {"webhook-id": "msg_other"},  # the signature covered another id
        {"webhook-signature": ""},
    ],
)
def test_bad_or_stale_signatures_are_401(crm: Service, overrides: dict[str, str]) -> None:
    response = push(crm, {"type": "customer.upserted", "data": ANNA}, **overrides)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
    assert customer(crm, "crm-1").status_code == 404


def test_another_secret_is_refused(crm: Service) -> None:
    body = json.dumps({"type": "customer.upserted", "data": ANNA}).encode()
    headers = signed_headers(generate_secret(), "msg_1", body)
    assert crm.client.post("/webhooks/crm", content=body, headers=headers).status_code == 401


def test_without_a_secret_the_endpoint_does_not_exist(service: Service) -> None:
    response = push(service, {"type": "customer.upserted", "data": ANNA})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_configured"


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"type": "customer.deleted", "data": ANNA}, "type"),
        ({"type": "customer.upserted", "data": {**ANNA, "email": "not-an-email"}}, "email"),
        ({"type": "customer.upserted", "data": {"email": "a@example.com"}}, "external_id"),
        ({"type": "customer.upserted", "data": {**ANNA, "colour": "red"}}, "colour"),
        ([], "1 to 1000"),
        ("just a string", "type"),
    ],
)
def test_invalid_changes_are_422_and_nothing_lands(crm: Service, document: Any, named: str) -> None:
    good = {"type": "customer.upserted", "data": {**ANNA, "external_id": "crm-2"}}
    documents = [good, document] if isinstance(document, dict) else document
    response = push(crm, documents)
    assert response.status_code == 422, response.text
    assert named in response.text
    assert customer(crm, "crm-2").status_code == 404


def test_a_body_that_is_not_json_is_422(crm: Service) -> None:
    body = b"{not json"
    response = crm.client.post("/webhooks/crm", content=body, headers=signed_headers(SECRET, "msg_x", body))
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_body"
