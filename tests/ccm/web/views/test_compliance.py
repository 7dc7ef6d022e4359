"""The compliance pages refuse roles without archive access (403) and audit each refusal as the API does:
`denied:<action>`, the session's key as the actor, the page asked for, in a chain that still verifies."""

from __future__ import annotations

import uuid
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import sign_in

MESSAGE_ID = str(uuid.uuid4())
PAGES = [
    ("/ui/archive?customer_id=c-1", "denied:search", [], "archive:read"),
    ("/ui/archive/export?customer_id=c-1", "denied:export", [], "archive:read"),
    (f"/ui/archive/{MESSAGE_ID}", "denied:view", [MESSAGE_ID], "archive:read"),
    (f"/ui/archive/{MESSAGE_ID}/original?inline=true", "denied:download", [MESSAGE_ID], "archive:read"),
    ("/ui/audit", "denied:audit_read", [], "audit:read"),
]


def _audit(service: Service) -> list[dict[str, Any]]:
    response = service.client.get("/v1/audit", headers=service.headers(Role.COMPLIANCE))
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def test_refused_archive_pages_are_audited(service: Service) -> None:
    client = service.client
    signed_out = client.get("/ui/archive", follow_redirects=False)
    assert signed_out.status_code == 303  # nobody to name: sent to the login page, not audited
    sign_in(client, service.keys[Role.MARKETER])

    for path, _, _, permission in PAGES:
        response = client.get(path)
        assert response.status_code == 403, (path, response.text)
        assert f"needs the &#39;{permission}&#39; permission" in response.text  # the page still renders

    records = _audit(service)
    assert [(r["action"], r["role"], r["actor"], r["message_ids"]) for r in records] == [
        (action, "marketer", "test marketer", ids) for _, action, ids, _ in PAGES
    ]
    assert [r["query"] for r in records] == [{"path": path.split("?")[0]} for path, *_ in PAGES]
    verified = client.get("/v1/audit/verify", headers=service.headers(Role.COMPLIANCE)).json()
    assert verified == {"ok": True, "records": len(PAGES), "problems": []}


def test_allowed_archive_pages_are_not_logged_as_refusals(service: Service) -> None:
    client = service.client
    sign_in(client, service.keys[Role.COMPLIANCE])

    assert client.get("/ui/archive").status_code == 200
    assert client.get("/ui/audit").status_code == 200
    assert [r["action"] for r in _audit(service)] == ["search"]  # reading the log is not itself logged
