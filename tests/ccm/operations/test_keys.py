"""`/v1/keys`: admins list keys (never a key itself) and revoke one, refused from its next request."""

from __future__ import annotations

import pytest

from ccm.access.models import Role
from ccm.access.service import create_api_key
from ccm.access.users import create_user
from ccm.database import session_scope
from tests.ccm.conftest import Service


def _keys(service: Service) -> dict[str, dict[str, object]]:
    response = service.client.get("/v1/keys", headers=service.headers())
    assert response.status_code == 200, response.text
    return {str(item["name"]): item for item in response.json()}


def test_admins_list_every_key_by_its_first_eight_characters(service: Service) -> None:
    listed = _keys(service)
    assert set(listed) == {f"test {role}" for role in Role} | {"test reviewer"}
    for role in Role:
        item = listed[f"test {role}"]
        assert set(item) == {"id", "name", "role", "prefix", "created_at", "revoked_at", "owner"}
        assert item["role"] == role.value and item["revoked_at"] is None
        assert item["owner"] is None  # a system's key acts as no person
        assert item["prefix"] == service.keys[role][:8]


def test_a_key_a_person_owns_lists_their_email(service: Service) -> None:
    with session_scope(service.runtime.engine) as session:
        user = create_user(
            session, email="Ada@Example.com", role=Role.MARKETER, password="a-long-password-here"
        )
        create_api_key(session, role=Role.MARKETER, name="ada's script", owner_user_id=user.id)
    listed = _keys(service)
    assert listed["ada's script"]["owner"] == "ada@example.com"
    assert listed["test marketer"]["owner"] is None


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SENDER, Role.COMPLIANCE])
def test_other_roles_are_refused(service: Service, role: Role) -> None:
    key_id = _keys(service)[f"test {role}"]["id"]
    for method, path in (("GET", "/v1/keys"), ("DELETE", f"/v1/keys/{key_id}")):
        response = service.client.request(method, path, headers=service.headers(role))
        assert response.status_code == 403, (method, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert service.client.get("/v1/templates", headers=service.headers(role)).status_code == 200


def test_an_unknown_key_is_404(service: Service) -> None:
    response = service.client.delete("/v1/keys/999999", headers=service.headers())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "key_not_found"


def test_a_revoked_key_is_refused_from_its_next_request(service: Service) -> None:
    headers = service.headers(Role.SENDER)
    assert service.client.get("/v1/templates", headers=headers).status_code == 200
    key_id = _keys(service)["test sender"]["id"]
    response = service.client.delete(f"/v1/keys/{key_id}", headers=service.headers())
    assert response.status_code == 204 and response.content == b""
    refused = service.client.get("/v1/templates", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    revoked_at = _keys(service)["test sender"]["revoked_at"]
    assert revoked_at is not None
    assert service.client.delete(f"/v1/keys/{key_id}", headers=service.headers()).status_code == 204
    assert _keys(service)["test sender"]["revoked_at"] == revoked_at  # revoking twice changes nothing
