"""The customers page searches (a GET form with `q`) and pages (a Next link carrying the cursor) through the
same service as `GET /v1/customers`, without scripts; a cursor it never issued gets an error page."""

from __future__ import annotations

import html
import re

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import sign_in


def listed(page: str) -> list[str]:
    """The external ids a customers page shows, in order."""
    return re.findall(r'<td><a href="/ui/customers/([^"]+)">', page)


def next_link(page: str) -> str | None:
    link = re.search(r'<a href="([^"]+)" rel="next">', page)
    return html.unescape(link.group(1)) if link else None


@pytest.fixture
def crowd(service: Service) -> None:
    """52 customers, one page and two more rows; two of them Rossi."""
    items: list[dict[str, object]] = [{"external_id": f"m{n:03d}"} for n in range(50)]
    items.append({"external_id": "r-1", "attributes": {"first_name": "Anna", "last_name": "Rossi"}})
    items.append({"external_id": "r-2", "email": "mario.rossi@example.com"})
    response = service.client.post(
        "/v1/customers:batch", json={"customers": items}, headers=service.headers()
    )
    assert response.status_code == 200, response.text
    sign_in(service.client, service.keys[Role.COMPLIANCE])


@pytest.mark.usefixtures("crowd")
def test_the_list_pages_with_a_next_link(service: Service) -> None:
    first = service.client.get("/ui/customers").text
    assert listed(first) == [f"m{n:03d}" for n in range(50)]
    assert "First page" not in first

    link = next_link(first)
    assert link and link.startswith("/ui/customers?cursor=")
    second = service.client.get(link).text

    assert listed(second) == ["r-1", "r-2"]
    assert next_link(second) is None
    assert '<a href="/ui/customers">← First page</a>' in second


@pytest.mark.usefixtures("crowd")
def test_the_search_form_finds_by_name_and_email(service: Service) -> None:
    first = service.client.get("/ui/customers").text
    assert re.search(r'<form method="get" action="/ui/customers"[^>]*role="search"', first)
    assert '<input type="search" name="q" value=""' in first

    found = service.client.get("/ui/customers", params={"q": "rossi"}).text

    assert listed(found) == ["r-1", "r-2"]  # last name, email
    assert '<input type="search" name="q" value="rossi"' in found
    assert next_link(found) is None


@pytest.mark.usefixtures("crowd")
def test_the_next_link_keeps_the_search(service: Service) -> None:
    first = service.client.get("/ui/customers", params={"q": "m"}).text
    assert listed(first) == [f"m{n:03d}" for n in range(50)]

    link = next_link(first)
    assert link and link.startswith("/ui/customers?q=m&cursor=")

    assert listed(service.client.get(link).text) == ["r-2"]  # mario.rossi@example.com; not r-1 (Anna Rossi)


@pytest.mark.usefixtures("crowd")
def test_no_match_says_so_and_escapes_the_query(service: Service) -> None:
    response = service.client.get("/ui/customers", params={"q": "<b>nobody</b>"})

    assert response.status_code == 200
    assert listed(response.text) == []
    assert "No customer matches “&lt;b&gt;nobody&lt;/b&gt;”." in response.text


@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"cursor": "not a cursor"}, 422, "cursor is not one this API issued"),
        ({"q": "x" * 101}, 400, "q: String should have at most 100 characters"),
    ],
)
def test_bad_parameters_get_an_error_page_naming_them(
    service: Service, params: dict[str, str], status: int, says: str
) -> None:
    response = service.client.get("/ui/customers", params=params)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text
