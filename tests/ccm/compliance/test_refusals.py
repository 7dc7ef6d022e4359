"""Refused archive requests (403) are audited too, as `denied:<action>`, although the request itself fails."""

from __future__ import annotations

import uuid
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service


def _audit(service: Service) -> list[dict[str, Any]]:
    response = service.client.get("/v1/audit", headers=service.headers(Role.COMPLIANCE))
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def test_refusals_are_written_to_the_audit_log(service: Service) -> None:
    message_id = str(uuid.uuid4())
    attempts = [
        (Role.MARKETER, "GET", "/v1/archive?customer_id=c-1", None),
        (Role.SENDER, "GET", f"/v1/archive/{message_id}/content", None),
        (Role.MARKETER, "GET", "/v1/archive/export", None),
        (Role.SENDER, "PUT", f"/v1/archive/{message_id}/legal-hold", {"on": True, "reason": "x"}),
        (Role.MARKETER, "GET", "/v1/audit", None),
        (Role.COMPLIANCE, "POST", "/v1/customers/c-1/erase", None),
    ]
    for role, method, path, body in attempts:
        response = service.client.request(method, path, json=body, headers=service.headers(role))
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert service.client.get("/v1/archive").status_code == 401  # no key, nobody to name: not audited

    records = _audit(service)
    assert [(r["action"], r["role"], r["actor"], r["message_ids"]) for r in records] == [
        ("denied:search", "marketer", "test marketer", []),
        ("denied:download", "sender", "test sender", [message_id]),
        ("denied:export", "marketer", "test marketer", []),
        ("denied:legal_hold", "sender", "test sender", [message_id]),
        ("denied:audit_read", "marketer", "test marketer", []),
        ("denied:erase_customer", "compliance", "test compliance", []),
    ]
    assert records[1]["query"] == {"path": f"/v1/archive/{message_id}/content"}
    verified = service.client.get("/v1/audit/verify", headers=service.headers(Role.COMPLIANCE)).json()
    assert verified == {"ok": True, "records": 6, "problems": []}


def test_the_action_filter_finds_refusals(service: Service) -> None:
    service.client.get("/v1/archive/verify", headers=service.headers(Role.SENDER))
    service.client.get("/v1/archive", headers=service.headers(Role.COMPLIANCE))
    response = service.client.get(
        "/v1/audit", params={"action": "denied:verify"}, headers=service.headers(Role.COMPLIANCE)
    )
    assert [(r["action"], r["role"]) for r in response.json()["items"]] == [("denied:verify", "sender")]
