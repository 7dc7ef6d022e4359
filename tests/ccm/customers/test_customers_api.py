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


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("josé@example.com", "josé@example.com"),
        ("user@bücher.de", "user@bücher.de"),
        ("José@Bücher.DE", "josé@bücher.de"),  # lower-cased, as every address is
        ("user@xn--bcher-kva.de", "user@bücher.de"),  # one form per domain: punycode is only for the wire
        ("jose\u0301@example.com", "jos\u00e9@example.com"),  # NFC: one spelling of é
        ("пользователь@пример.рф", "пользователь@пример.рф"),
    ],
)
def test_internationalised_emails_are_accepted(service: Service, typed: str, stored: str) -> None:
    response = service.client.put("/v1/customers/intl", json={"email": typed}, headers=service.headers())
    assert response.status_code == 201, response.text
    assert response.json()["email"] == stored
    assert service.client.get("/v1/customers/intl", headers=service.headers()).json()["email"] == stored


@pytest.mark.parametrize("email", ["ann\x0c@example.com", "ann@☃.example", "ann@example.com\u200b"])
def test_emails_no_header_could_carry_are_refused(service: Service, email: str) -> None:
    response = service.client.put("/v1/customers/bad", json={"email": email}, headers=service.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "email"
