"""Archived messages to examine: OTP SMS (quick to compose) sent through the real worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archive import FilesystemStore
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import find_entry
from ccm.database import session_scope
from tests.ccm.conftest import Service


def send_otps(service: Service, count: int, *, customer: str = "c-1") -> list[str]:
    """Send `count` one-time codes by SMS and archive them; their message ids, oldest first."""
    ids = []
    for n in range(count):
        body = {
            "template": "otp",
            "customer_id": customer,
            "data": {"code": f"{n:06d}", "expires_minutes": 5},
            "channels": ["sms"],
        }
        response = service.send(body, key=f"otp-{customer}-{n}")
        assert response.status_code == 202, response.text
        ids.append(str(response.json()["messages"][0]["id"]))
    service.work()
    return ids


def entry(service: Service, message_id: str) -> ArchiveEntry:
    with session_scope(service.runtime.engine) as session:
        found = find_entry(session, message_id)
    assert found is not None
    return found


def object_path(service: Service, message_id: str) -> Path:
    store = service.runtime.archive.store
    assert isinstance(store, FilesystemStore)
    path = store.root / entry(service, message_id).object_key
    path.chmod(0o644)  # the tamperer has write access to the directory
    return path


def verify(service: Service) -> dict[str, Any]:
    response = service.client.get("/v1/archive/verify", headers=service.headers())
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.fixture
def otps(service: Service, customer: dict[str, Any]) -> list[str]:
    return send_otps(service, 3)
