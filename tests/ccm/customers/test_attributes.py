"""Typed custom attributes (`/v1/customer-attributes`): declared once, checked on every customer write
(`PUT`, batch), refused with 409 and the count when stored customers already violate the type."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service


def declare(service: Service, body: dict[str, Any], role: Role = Role.ADMIN) -> Any:
    return service.client.post("/v1/customer-attributes", json=body, headers=service.headers(role))


def put(service: Service, external_id: str, attributes: dict[str, Any]) -> Any:
    return service.client.put(
        f"/v1/customers/{external_id}", json={"attributes": attributes}, headers=service.headers()
    )


def test_declare_list_read_and_delete(service: Service) -> None:
    created = declare(service, {"name": "tier", "type": "enum", "values": ["gold", "silver"]}, Role.MARKETER)
    assert created.status_code == 201, created.text
    assert created.json()["values"] == ["gold", "silver"]
    declare(service, {"name": "age", "type": "number", "description": "years"})

    listed = service.client.get("/v1/customer-attributes", headers=service.headers(Role.SENDER))
    assert [(a["name"], a["type"]) for a in listed.json()["attributes"]] == [
        ("age", "number"),
        ("tier", "enum"),
    ]
    one = service.client.get("/v1/customer-attributes/age", headers=service.headers())
    assert one.json()["description"] == "years"

    again = declare(service, {"name": "age", "type": "string"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "attribute_exists"
    deleted = service.client.delete("/v1/customer-attributes/age", headers=service.headers())
    assert deleted.status_code == 204
    missing = service.client.get("/v1/customer-attributes/age", headers=service.headers())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "attribute_not_found"
    assert put(service, "c1", {"age": "old now"}).status_code == 201  # free-form again


@pytest.mark.parametrize(
    "body",
    [
        {"name": "tier", "type": "enum"},
        {"name": "tier", "type": "string", "values": ["a"]},
        {"name": "tier", "type": "enum", "values": ["a", "a"]},
        {"name": "email", "type": "string"},
        {"name": "bad name", "type": "string"},
        {"name": "x", "type": "integer"},
    ],
)
def test_bad_declarations_are_422(service: Service, body: dict[str, Any]) -> None:
    response = declare(service, body)
    assert response.status_code == 422, response.text


def test_only_admins_and_marketers_declare(service: Service) -> None:
    assert declare(service, {"name": "a", "type": "string"}, Role.SENDER).status_code == 403
    assert declare(service, {"name": "a", "type": "string"}, Role.COMPLIANCE).status_code == 403
    assert declare(service, {"name": "a", "type": "string"}, Role.MARKETER).status_code == 201


@pytest.mark.parametrize(
    ("type_", "good", "bad"),
    [
        ("number", 12.5, "12.5"),
        ("number", 3, True),
        ("boolean", False, "false"),
        ("string", "x", 5),
        ("date", "2026-02-28", "2026-02-30"),
        ("enum", "gold", "bronze"),
    ],
)
def test_put_checks_declared_types(service: Service, type_: str, good: Any, bad: Any) -> None:
    body: dict[str, Any] = {"name": "field", "type": type_}
    if type_ == "enum":
        body["values"] = ["gold", "silver"]
    assert declare(service, body).status_code == 201
    assert put(service, "c1", {"field": good, "free": 1}).status_code == 201
    refused = put(service, "c1", {"field": bad})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("attribute_invalid", "attributes.field")
    stored = service.client.get("/v1/customers/c1", headers=service.headers()).json()
    assert stored["attributes"] == {"field": good, "free": 1}


def test_batch_items_name_the_bad_attribute(service: Service) -> None:
    declare(service, {"name": "score", "type": "number"})
    response = service.client.post(
        "/v1/customers:batch",
        json={
            "customers": [
                {"external_id": "a", "attributes": {"score": 1}},
                {"external_id": "b", "attributes": {"score": "x"}},
            ]
        },
        headers=service.headers(),
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error"]
    assert results[1]["error"]["field"] == "attributes.score"
    assert results[1]["error"]["code"] == "attribute_invalid"
    assert service.client.get("/v1/customers/b", headers=service.headers()).status_code == 404


def test_declaring_a_type_stored_data_violates_is_409_with_the_count(service: Service) -> None:
    for external_id, value in [("a", 5), ("b", "7"), ("c", True), ("d", 2.5), ("e", "2026-13-01")]:
        assert put(service, external_id, {"level": value}).status_code == 201
    put(service, "f", {"other": "x"})
    put(service, "g", {"level": "2026-01-31"})

    expected = {"number": 4, "string": 3, "boolean": 5, "date": 5}  # "7" and "2026-13-01" are no dates
    for type_, count in expected.items():
        response = declare(service, {"name": "level", "type": type_})
        assert response.status_code == 409, (type_, response.text)
        error = response.json()["error"]
        assert (error["code"], error["count"]) == ("attribute_conflict", count), type_

    enum = declare(service, {"name": "level", "type": "enum", "values": ["7", "2026-01-31", "2026-13-01"]})
    assert enum.json()["error"]["count"] == 3  # 5, True and 2.5
    fits = declare(service, {"name": "other", "type": "enum", "values": ["x"]})
    assert fits.status_code == 201
    assert service.client.get("/v1/customer-attributes/level", headers=service.headers()).status_code == 404
