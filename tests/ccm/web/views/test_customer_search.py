"""Finding a customer to preview a template with: by external id, email or name, bounded, without scripts
(a GET form whose results link to the page previewing with that customer's data)."""

from __future__ import annotations

import re

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import sign_in


def add_customer(service: Service, external_id: str, **fields: object) -> None:
    response = service.client.put(f"/v1/customers/{external_id}", json=fields, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def found(service: Service, query: str, key: str = "otp") -> list[str]:
    """The external ids the template page lists for a search, in order."""
    response = service.client.get(f"/ui/templates/{key}", params={"q": query})
    assert response.status_code == 200, response.text
    listing = re.search(r'<ul class="customer-matches"[^>]*>(.*?)</ul>', response.text, re.S)
    assert listing, "no result list"
    return re.findall(
        rf'<a href="/ui/templates/{key}\?version=\d+&amp;customer_id=([^"]+)">', listing.group(1)
    )


def people(service: Service) -> None:
    sign_in(service.client, service.keys[Role.MARKETER])
    add_customer(
        service,
        "c-1",
        email="anna.rossi@example.com",
        locale="it",
        attributes={"first_name": "Anna", "last_name": "Rossi"},
    )
    add_customer(
        service,
        "c-2",
        email="lukas@example.ch",
        locale="de_CH",
        attributes={"first_name": "Lukas", "last_name": "Anner"},
    )
    add_customer(service, "a_b", attributes={"first_name": "Under"})
    add_customer(service, "axb", attributes={"first_name": "Cross"})


def test_customers_are_found_by_external_id_email_and_name(service: Service) -> None:
    people(service)

    assert found(service, "c-1") == ["c-1"]
    assert found(service, "EXAMPLE.ch") == ["c-2"]  # email, whatever the case
    assert found(service, "rossi") == ["c-1"]  # last name
    assert found(service, "ann") == ["c-1", "c-2"]  # Anna, Anner
    assert found(service, "anna rossi") == ["c-1"]  # every word must match


def test_like_wildcards_in_the_query_match_literally(service: Service) -> None:
    people(service)

    assert found(service, "a_b") == ["a_b"]  # not axb
    assert found(service, "%") == []
    assert found(service, "\\") == []


def test_a_result_previews_the_version_with_that_customers_data(service: Service) -> None:
    people(service)
    page = service.client.get("/ui/templates/otp", params={"q": "anna"}).text
    link = re.search(r'<a href="(/ui/templates/otp\?version=\d+&amp;customer_id=c-1)">', page)
    assert link

    preview = service.client.get(link.group(1).replace("&amp;", "&"))

    assert preview.status_code == 200
    assert 'data of customer <a href="/ui/customers/c-1">c-1</a>' in preview.text
    assert 'name="customer_id" value="c-1"' in preview.text  # the live preview uses their data too


def test_no_match_says_so(service: Service) -> None:
    people(service)

    response = service.client.get("/ui/templates/otp", params={"q": "nobody"})

    assert found(service, "nobody") == []
    assert "No customer matches “nobody”." in response.text


def test_at_most_twenty_customers_are_listed(service: Service) -> None:
    sign_in(service.client, service.keys[Role.MARKETER])
    for number in range(25):
        add_customer(service, f"bulk-{number:02d}")

    assert found(service, "bulk") == [f"bulk-{number:02d}" for number in range(20)]


def test_an_overlong_query_is_refused_by_name(service: Service) -> None:
    sign_in(service.client, service.keys[Role.MARKETER])

    response = service.client.get("/ui/templates/otp", params={"q": "x" * 101})

    assert response.status_code == 400
    assert "q: String should have at most 100 characters" in response.text
