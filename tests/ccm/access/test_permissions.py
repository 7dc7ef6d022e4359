"""Who may do what over HTTP: each role is refused (403) outside its job; a missing or wrong key is a 401."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import INVOICE, Service


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (Role.SENDER, "GET", "/v1/archive", None),
        (Role.MARKETER, "POST", "/v1/messages", INVOICE),
        (Role.COMPLIANCE, "POST", "/v1/templates/invoice/versions", {"parts": {"sms": {"text": "x"}}}),
        (Role.SENDER, "POST", "/v1/templates/invoice/versions/1/publish", None),
        (Role.MARKETER, "GET", "/v1/archive", None),
        (Role.COMPLIANCE, "PUT", "/v1/customers/c-1", {"email": "a@b.co"}),
    ],
)
def test_each_role_may_only_do_its_job(
    service: Service, customer: dict[str, Any], role: Role, method: str, path: str, body: Any
) -> None:
    response = service.client.request(method, path, json=body, headers=service.headers(role))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


def test_missing_or_wrong_key_is_401(service: Service) -> None:
    assert service.client.get("/v1/templates").status_code == 401
    response = service.client.get("/v1/templates", headers={"Authorization": "Bearer ccm_wrong"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
