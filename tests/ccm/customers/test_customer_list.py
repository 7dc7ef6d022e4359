"""`GET /v1/customers`: searched by external id, email, phone, name or a string attribute, paged by an opaque
cursor in external id order that stays stable while records are added, and never a 5xx for odd input."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.customers.service import get_customer, unsubscribe
from ccm.database import session_scope
from tests.ccm.conftest import Service

PEOPLE: dict[str, dict[str, Any]] = {
    "p01": {"email": "anna.rossi@example.com", "attributes": {"first_name": "Anna", "last_name": "Rossi"}},
    "p02": {"phone": "+393471234502", "attributes": {"first_name": "Lukas", "tier": "gold"}},
    "p03": {"email": "lukas.b@example.ch", "attributes": {"first_name": "Lukas", "tier": "Gold"}},
    "p04": {"attributes": {"vip": True, "visits": 5, "code": "a:b", "tier": "gold"}},
    "p05": {"email": "ops@example.org", "attributes": {"vip": "true", "visits": "5"}},
}


def put(service: Service, external_id: str, body: dict[str, Any]) -> None:
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def listing(service: Service, role: Role = Role.ADMIN, **params: Any) -> dict[str, Any]:
    response = service.client.get("/v1/customers", params=params, headers=service.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(service: Service, **params: Any) -> list[str]:
    return [customer["external_id"] for customer in listing(service, **params)["customers"]]


def every_page(service: Service, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        body = listing(service, **params, **({"cursor": cursor} if cursor else {}))
        pages.append([customer["external_id"] for customer in body["customers"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.fixture
def people(service: Service) -> None:
    for external_id, body in reversed(PEOPLE.items()):  # stored out of order: the list sorts
        put(service, external_id, body)


@pytest.mark.usefixtures("people")
def test_pages_follow_the_cursor_in_external_id_order(service: Service) -> None:
    assert every_page(service, limit=2) == [["p01", "p02"], ["p03", "p04"], ["p05"]]
    assert every_page(service) == [["p01", "p02", "p03", "p04", "p05"]]  # 50 by default
    assert every_page(service, limit=5) == [["p01", "p02", "p03", "p04", "p05"]]  # no empty last page


@pytest.mark.usefixtures("people")
def test_paging_is_stable_while_customers_are_added(service: Service) -> None:
    first = listing(service, limit=2)
    put(service, "p00", {})  # before the cursor: not shown on later pages, nothing shifts
    put(service, "p02a", {})  # after it: shown in its place

    second = listing(service, limit=2, cursor=first["next_cursor"])

    assert [c["external_id"] for c in second["customers"]] == ["p02a", "p03"]


def test_each_customer_is_shown_as_get_shows_it(service: Service, customer: dict[str, Any]) -> None:
    put(service, "p09", {"email": "quiet@example.com"})
    service.send({"template": "otp", "customer_id": "c-1", "data": {"code": "1", "expires_minutes": 5}})
    service.work()
    with session_scope(service.runtime.engine) as session:
        unsubscribe(session, get_customer(session, "c-1"), "sms", source="test")

    listed = listing(service)["customers"]

    gets = [
        service.client.get(f"/v1/customers/{c['external_id']}", headers=service.headers()) for c in listed
    ]
    assert listed == [response.json() for response in gets]
    assert listed[0]["consent"]["unsubscribed_channels"] == ["sms"]
    assert listed[0]["engagement"]["sent"] == 1 and listed[1]["engagement"]["sent"] == 0


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("p03", ["p03"]),  # external id
        ("EXAMPLE.CH", ["p03"]),  # email, whatever the case
        ("3471234502", ["p02"]),  # phone digits
        ("+39347", ["p02"]),
        ("rossi", ["p01"]),  # last name
        ("lukas", ["p02", "p03"]),  # first name
        ("lukas example", ["p03"]),  # every word must match
        ("  anna\trossi  ", ["p01"]),
        ("%", []),  # LIKE wildcards match literally
        ("nobody", []),
        ("", ["p01", "p02", "p03", "p04", "p05"]),
    ],
)
def test_search_matches_ids_emails_phones_and_names(service: Service, query: str, found: list[str]) -> None:
    assert ids(service, q=query) == found


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("attribute", "found"),
    [
        ("tier:gold", ["p02", "p04"]),  # exact: not "Gold"
        ("tier:Gold", ["p03"]),
        ("tier:", []),
        ("vip:true", ["p05"]),  # the string "true", not the boolean
        ("visits:5", ["p05"]),  # the string "5", not the number
        ("code:a:b", ["p04"]),  # the value may hold a colon
        ("missing:x", []),
    ],
)
def test_attribute_filter_matches_a_string_attribute_exactly(
    service: Service, attribute: str, found: list[str]
) -> None:
    assert ids(service, attribute=attribute) == found


@pytest.mark.usefixtures("people")
def test_search_and_attribute_filter_combine_and_page(service: Service) -> None:
    assert ids(service, q="lukas", attribute="tier:gold") == ["p02"]
    assert every_page(service, attribute="tier:gold", limit=1) == [["p02"], ["p04"]]
    assert every_page(service, q="example", limit=2) == [["p01", "p03"], ["p05"]]


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("role", [Role.MARKETER, Role.SENDER, Role.COMPLIANCE])
def test_every_role_that_reads_customers_may_list_them(service: Service, role: Role) -> None:
    assert len(listing(service, role)["customers"]) == 5


def test_listing_needs_an_api_key(service: Service) -> None:
    assert service.client.get("/v1/customers").status_code == 401


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "x"}, "cursor"),
        ({"cursor": "!!!!"}, "cursor"),
        ({"cursor": "p01"}, "cursor"),  # an external id is not a cursor
        ({"cursor": _cursor(b"has space")}, "cursor"),
        ({"cursor": _cursor("é".encode())}, "cursor"),
        ({"cursor": _cursor(b"\x00\xff")}, "cursor"),
        ({"cursor": "é🙂\u202e"}, "cursor"),
        ({"cursor": "A" * 401}, "cursor"),
        ({"cursor": _cursor(b"a" * 201)}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"q": "x" * 101}, "q"),
        ({"attribute": "tier"}, "attribute"),
        ({"attribute": ":gold"}, "attribute"),
        ({"attribute": 'ti"er:gold'}, "attribute"),
        ({"attribute": "tier:" + "g" * 201}, "attribute"),
    ],
)
def test_bad_parameters_are_refused_by_name(service: Service, params: dict[str, Any], field: str) -> None:
    response = service.client.get("/v1/customers", params=params, headers=service.headers())

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert field in response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["q", "cursor", "attribute"])
def test_a_nul_character_in_a_parameter_is_refused(service: Service, name: str) -> None:
    response = service.client.get("/v1/customers", params={name: "tier:a\x00"}, headers=service.headers())

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "URL must not contain NUL characters"


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    "query", ["ß", "İstanbul", "🙂", "\u202eevil", "a\u0301", "\ufffd", "'; drop table x"]
)
def test_odd_text_in_a_search_is_just_text(service: Service, query: str) -> None:
    assert ids(service, q=query) == []


def test_a_cursor_from_a_page_works_with_the_largest_limit(service: Service) -> None:
    put(service, "z" * 200, {})
    put(service, "a", {})
    first = listing(service, limit=1)

    assert [
        c["external_id"] for c in listing(service, limit=200, cursor=first["next_cursor"])["customers"]
    ] == ["z" * 200]
