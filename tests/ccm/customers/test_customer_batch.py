"""`POST /v1/customers:batch`: up to 1,000 upserts, each validated and stored exactly as `PUT` would, each
with its own result; a bad item is reported and leaves nothing behind while the others land."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service


def batch(service: Service, items: list[Any], role: Role = Role.ADMIN) -> Any:
    return service.client.post(
        "/v1/customers:batch", json={"customers": items}, headers=service.headers(role)
    )


def results(service: Service, items: list[Any]) -> list[dict[str, Any]]:
    response = batch(service, items)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["results"]
    return found


def stored(service: Service, external_id: str) -> dict[str, Any] | None:
    response = service.client.get(f"/v1/customers/{external_id}", headers=service.headers())
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def test_items_are_created_or_updated_and_a_bad_one_is_reported_alone(service: Service) -> None:
    service.client.put("/v1/customers/old", json={"locale": "it"}, headers=service.headers())

    outcome = results(
        service,
        [
            {
                "external_id": "new",
                "email": "New@Example.com",
                "phone": "+39 347 123 4501",
                "locale": "de-CH",
            },
            {"external_id": "bad", "email": "not-an-email"},
            {"external_id": "old", "locale": "fr", "attributes": {"tier": "gold"}},
        ],
    )

    assert [(r["index"], r["external_id"], r["status"]) for r in outcome] == [
        (0, "new", "created"),
        (1, "bad", "error"),
        (2, "old", "updated"),
    ]
    assert outcome[0]["error"] is None and outcome[2]["error"] is None
    assert outcome[1]["error"]["field"] == "email" and outcome[1]["error"]["code"] == "invalid"
    created = stored(service, "new")
    assert created and (created["email"], created["phone"], created["locale"]) == (
        "new@example.com",
        "+393471234501",
        "de_CH",
    )
    updated = stored(service, "old")
    assert updated and updated["locale"] == "fr" and updated["attributes"] == {"tier": "gold"}
    assert stored(service, "bad") is None


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"phone": "3471234567"},
        {"phone": "+391"},
        {"locale": "xx_YY_zz"},
        {"timezone": "Mars/Olympus"},
        {"attributes": []},
        {"attributes": {"note": "nul\x00"}},
        {"nickname": "unknown field"},
    ],
)
def test_an_item_is_refused_exactly_as_put_refuses_it(service: Service, body: dict[str, Any]) -> None:
    single = service.client.put("/v1/customers/c-9", json=body, headers=service.headers())
    assert single.status_code == 422

    [result] = results(service, [{"external_id": "c-9", **body}])

    assert result["status"] == "error"
    expected = single.json()["error"]
    assert result["error"] == {key: expected[key] for key in ("code", "message", "field")}
    assert stored(service, "c-9") is None


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ({"email": "a@example.com"}, None),  # no external id
        ({"external_id": ""}, ""),
        ({"external_id": "has space"}, "has space"),
        ({"external_id": "x" * 201}, "x" * 201),
        ({"external_id": 42}, None),
        ({"external_id": "a\x00b"}, "a\x00b"),
    ],
)
def test_a_missing_or_bad_external_id_is_named(service: Service, item: dict[str, Any], named: Any) -> None:
    [result] = results(service, [item])

    assert result["status"] == "error" and result["external_id"] == named
    assert result["error"]["field"] == "external_id"


def test_an_external_id_named_twice_is_an_error_on_the_later_item(service: Service) -> None:
    outcome = results(
        service,
        [
            {"external_id": "twin", "locale": "it"},
            {"external_id": "other"},
            {"external_id": "twin", "locale": "de"},
        ],
    )

    assert [r["status"] for r in outcome] == ["created", "created", "error"]
    assert outcome[2]["error"]["code"] == "duplicate_external_id"
    assert outcome[2]["error"]["field"] == "external_id" and "index 0" in outcome[2]["error"]["message"]
    twin = stored(service, "twin")
    assert twin and twin["locale"] == "it"


def test_a_thousand_items_are_accepted(service: Service) -> None:
    outcome = results(service, [{"external_id": f"bulk-{n:04d}"} for n in range(1000)])

    assert [r["status"] for r in outcome] == ["created"] * 1000
    assert [r["index"] for r in outcome] == list(range(1000))
    listed = service.client.get("/v1/customers", params={"q": "bulk-0999"}, headers=service.headers())
    assert [c["external_id"] for c in listed.json()["customers"]] == ["bulk-0999"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customers": [{"external_id": f"c-{n}"} for n in range(1001)]}, "customers"),
        ({"customers": []}, "customers"),
        ({}, "customers"),
        ({"customers": {"external_id": "c-1"}}, "customers"),
        ({"customers": ["c-1"]}, "customers.0"),
        ({"customers": [{"external_id": "c-1"}], "extra": 1}, "extra"),
    ],
)
def test_a_malformed_batch_is_refused_by_name(service: Service, body: Any, field: str) -> None:
    response = service.client.post("/v1/customers:batch", json=body, headers=service.headers())

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert service.client.get("/v1/customers", headers=service.headers()).json()["customers"] == []


def test_an_oversize_batch_says_how_many_items_are_allowed(service: Service) -> None:
    response = batch(service, [{"external_id": f"c-{n}"} for n in range(1001)])

    assert response.status_code == 422
    assert "at most 1000 items" in response.json()["error"]["message"]


@pytest.mark.parametrize("role", [Role.MARKETER, Role.COMPLIANCE])
def test_roles_that_cannot_write_customers_are_refused(service: Service, role: Role) -> None:
    response = batch(service, [{"external_id": "c-1"}], role)

    assert response.status_code == 403
    assert stored(service, "c-1") is None


def test_a_sender_may_upsert_in_bulk(service: Service) -> None:
    response = batch(service, [{"external_id": "c-1"}], Role.SENDER)

    assert response.status_code == 200 and response.json()["results"][0]["status"] == "created"


def test_half_a_utf16_pair_is_refused_by_put_and_batch_alike(service: Service) -> None:
    headers = {**service.headers(), "Content-Type": "application/json"}
    single = service.client.put(
        "/v1/customers/s-1", content=rb'{"attributes": {"a": "\ud800"}}', headers=headers
    )
    body = rb'{"customers": [{"external_id": "s-1", "attributes": {"a": "\udfff"}}, {"external_id": "s-2"}]}'

    outcome = service.client.post("/v1/customers:batch", content=body, headers=headers).json()["results"]
    named = rb'{"customers": [{"external_id": "\ud800"}, {"external_id": "\ud800"}]}'
    echoed = service.client.post("/v1/customers:batch", content=named, headers=headers).json()["results"]

    assert single.status_code == 422 and "lone surrogate" in single.json()["error"]["message"]
    assert [(r["status"], (r["error"] or {}).get("field")) for r in outcome] == [
        ("error", "attributes"),
        ("created", None),
    ]
    assert stored(service, "s-1") is None
    assert [(r["external_id"], r["error"]["code"]) for r in echoed] == [
        ("?", "invalid"),
        ("?", "duplicate_external_id"),
    ]
