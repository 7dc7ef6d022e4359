"""Customer records over HTTP: invalid fields are named and nothing stored; upserts normalise and update."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ccm.conftest import Service


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "3471234567"}, "phone"),
        ({"phone": "+391"}, "phone"),
        ({"locale": "xx_YY_zz"}, "locale"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"attributes": []}, "attributes"),
    ],
)
def test_invalid_customer_fields_are_named(service: Service, body: dict[str, Any], field: str) -> None:
    response = service.client.put("/v1/customers/c-9", json=body, headers=service.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert service.client.get("/v1/customers/c-9", headers=service.headers()).status_code == 404


def test_customer_upsert_normalises_and_updates(service: Service) -> None:
    body = {
        "email": "Ada@Example.com",
        "phone": "+39 347 123 4501",
        "locale": "de-DE",
        "timezone": "Europe/Berlin",
    }
    created = service.client.put("/v1/customers/ada", json=body, headers=service.headers())
    assert created.status_code == 201
    assert created.json()["phone"] == "+393471234501" and created.json()["locale"] == "de_DE"
    updated = service.client.put(
        "/v1/customers/ada", json={**body, "attributes": {"tier": "gold"}}, headers=service.headers()
    )
    assert updated.status_code == 200 and updated.json()["attributes"] == {"tier": "gold"}
