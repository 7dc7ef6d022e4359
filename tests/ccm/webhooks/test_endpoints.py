"""`/v1/webhook-endpoints`: admin-only, the secret shown once, and URLs into our own network refused."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service

PUBLIC = "https://93.184.215.14/hooks/ccm"  # a public address literal: no DNS needed to vet it
EVENTS = ["message.delivered", "message.opened"]


def create(service: Service, url: str = PUBLIC, events: list[str] | None = None) -> Any:
    body = {"url": url, "events": events or EVENTS, "description": "CRM"}
    return service.client.post("/v1/webhook-endpoints", json=body, headers=service.headers())


def test_the_secret_is_shown_once_on_create_and_on_rotation(service: Service) -> None:
    created = create(service)
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    shown = service.client.get(path, headers=service.headers()).json()
    listed = service.client.get("/v1/webhook-endpoints", headers=service.headers()).json()["endpoints"]
    assert "secret" not in shown and all("secret" not in item for item in listed)
    assert shown["events"] == EVENTS and [item["id"] for item in listed] == [endpoint["id"]]
    rotated = service.client.post(f"{path}/rotate-secret", headers=service.headers())
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != endpoint["secret"]


def test_update_changes_events_and_url_and_delete_removes(service: Service) -> None:
    endpoint = create(service).json()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    body = {"events": ["message.clicked"], "url": "https://93.184.215.15/other", "enabled": False}
    updated = service.client.patch(path, json=body, headers=service.headers())
    assert updated.status_code == 200, updated.text
    assert updated.json()["events"] == ["message.clicked"]
    assert updated.json()["url"] == "https://93.184.215.15/other"
    assert updated.json()["enabled"] is False
    assert updated.json()["disabled_reason"] == "disabled by an admin"
    assert service.client.delete(path, headers=service.headers()).status_code == 204
    assert service.client.get(path, headers=service.headers()).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC, "events": ["message.sent"]}, "events"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC}, "events"),
        ({"url": PUBLIC, "events": EVENTS, "secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(service: Service, body: dict[str, Any], field: str) -> None:
    response = service.client.post("/v1/webhook-endpoints", json=body, headers=service.headers())
    assert response.status_code == 422
    assert field in response.text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/hooks", "must use https"),
        ("ftp://93.184.215.14/hooks", "must use https"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),  # a DNS name resolving to loopback
        ("https://2130706433/hooks", "loopback"),  # decimal spelling of 127.0.0.1
        ("https://0x7f000001/hooks", "loopback"),  # hex spelling
        ("https://0177.0.0.1/hooks", "loopback"),  # octal spelling
        ("https://127.1/hooks", "loopback"),  # short form
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),  # IPv4-mapped IPv6
        ("https://10.1.2.3/hooks", "private"),
        ("https://172.16.0.1/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("https://[fc00::1]/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[fd00:ec2::254]/hooks", "metadata"),
        ("https://169.254.10.1/hooks", "link-local"),
        ("https://[fe80::1]/hooks", "link-local"),
        ("https://0.0.0.0/hooks", "unspecified"),
        ("https://[::]/hooks", "unspecified"),
        ("https://224.0.0.1/hooks", "multicast"),
        ("https://[ff02::1]/hooks", "multicast"),
        ("https://100.64.0.1/hooks", "non-public"),  # carrier-grade NAT
        ("https://user:pw@93.184.215.14/hooks", "credentials"),
        ("https://no-such-host.invalid/hooks", "does not resolve"),
    ],
)
def test_urls_into_our_network_are_refused(service: Service, url: str, reason: str) -> None:
    response = create(service, url)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unsafe_url" and reason in error["message"]


def test_allowed_hosts_may_use_http_and_loopback(service_factory: Any) -> None:
    service = service_factory(webhook_allowed_hosts=["127.0.0.1", "localhost"])
    assert create(service, "http://127.0.0.1:8080/hooks").status_code == 201
    assert create(service, "https://localhost/hooks").status_code == 201
    assert create(service, "https://[::1]/hooks").status_code == 422  # not listed


def test_a_url_change_is_vetted_too(service: Service) -> None:
    endpoint = create(service).json()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    response = service.client.patch(path, json={"url": "https://localhost/x"}, headers=service.headers())
    assert response.status_code == 422 and response.json()["error"]["code"] == "unsafe_url"


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SENDER])
def test_only_admins_manage_endpoints(service: Service, role: Role) -> None:
    response = service.client.post(
        "/v1/webhook-endpoints", json={"url": PUBLIC, "events": EVENTS}, headers=service.headers(role)
    )
    assert response.status_code == 403
    assert service.client.get("/v1/webhook-endpoints", headers=service.headers(role)).status_code == 403


@pytest.mark.parametrize("endpoint_id", ["0", "99", "9999999999999", "abc"])
def test_unknown_or_malformed_ids_are_4xx(service: Service, endpoint_id: str) -> None:
    response = service.client.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=service.headers()
    )
    assert response.status_code in (404, 422)
