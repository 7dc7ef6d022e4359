"""Search, export (checked with the real `sha256sum -c`), audit log, roles, re-render, erasure, PDF/A."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pikepdf
from sqlmodel import Session, select

from ccm.access.models import Role
from ccm.archiving.service import find_entry
from ccm.communications.models import Message
from ccm.compliance.purge import purge_expired
from ccm.compliance.rerender import rerender
from ccm.customers.models import Customer
from ccm.database import session_scope, utcnow
from tests.ccm.compliance.conftest import send_otps
from tests.ccm.conftest import INVOICE_DATA, Service


def test_search_filters_and_paginates(service: Service, otps: list[str]) -> None:
    headers = service.headers(Role.COMPLIANCE)
    page = service.client.get(
        "/v1/archive", params={"phone": "+393471234501", "limit": 2}, headers=headers
    ).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = service.client.get(
        "/v1/archive", params={"customer_id": "c-1", "limit": 2, "offset": 2}, headers=headers
    ).json()
    assert [i["message_id"] for i in rest["items"]] == [otps[0]]
    by_id = service.client.get(
        "/v1/archive",
        params={"message_id": otps[1], "template": "otp", "category": "transactional"},
        headers=headers,
    ).json()
    assert [i["message_id"] for i in by_id["items"]] == [otps[1]]
    assert (
        service.client.get(
            "/v1/archive", params={"email": "GIULIA.ROSSI@example.com"}, headers=headers
        ).json()["total"]
        == 3
    )
    assert (
        service.client.get("/v1/archive", params={"channel": "email"}, headers=headers).json()["total"] == 0
    )
    detail = service.client.get(f"/v1/archive/{otps[0]}", headers=headers).json()
    assert detail["verified"] and detail["context"]["code"] == "000000"
    assert {"queued", "archived", "sent"} <= {e["type"] for e in detail["events"]}
    assert detail["retain_until"] and detail["lock_mode"] == "COMPLIANCE"


def test_only_compliance_and_admin_reach_the_archive_and_every_access_is_audited(
    service: Service, otps: list[str]
) -> None:
    for role in (Role.MARKETER, Role.SENDER):
        for path in ("/v1/archive", f"/v1/archive/{otps[0]}", "/v1/archive/export", "/v1/audit"):
            assert service.client.get(path, headers=service.headers(role)).status_code == 403, (role, path)
    headers = service.headers(Role.COMPLIANCE)
    service.client.get("/v1/archive", params={"customer_id": "c-1"}, headers=headers)
    service.client.get(f"/v1/archive/{otps[0]}", headers=headers)
    service.client.get(f"/v1/archive/{otps[1]}/content", headers=headers)
    service.client.get("/v1/archive/export", params={"message_id": otps[2]}, headers=headers)
    log = service.client.get("/v1/audit", headers=headers).json()["items"]
    actions = [(r["action"], r["message_ids"], r["role"]) for r in reversed(log)]
    refused = [
        (action, ids, role)
        for role in ("marketer", "sender")
        for action, ids in (
            ("denied:search", []),
            ("denied:view", [otps[0]]),
            ("denied:export", []),
            ("denied:audit_read", []),
        )
    ]
    assert actions == [
        *refused,
        ("search", list(reversed(otps)), "compliance"),
        ("view", [otps[0]], "compliance"),
        ("download", [otps[1]], "compliance"),
        ("export", [otps[2]], "compliance"),
    ]
    assert log[3]["query"] == {"customer_id": "c-1"}
    assert service.client.get("/v1/audit/verify", headers=headers).json() == {
        "ok": True,
        "records": 12,
        "problems": [],
    }
    exported = service.client.get("/v1/audit/export", headers=headers)
    assert exported.status_code == 200 and len(exported.text.splitlines()) == 13


def test_export_verifies_with_sha256sum_alone(service: Service, otps: list[str], tmp_path: Path) -> None:
    response = service.client.get(
        "/v1/archive/export", params={"customer_id": "c-1"}, headers=service.headers(Role.COMPLIANCE)
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(response.content)).extractall(tmp_path)
    checked = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 3, checked.stdout + checked.stderr
    script = subprocess.run(
        [sys.executable, "verify_export.py", "."], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert script.returncode == 0 and "all checks passed" in script.stdout, script.stdout
    assert (tmp_path / "VERIFY.md").read_text().startswith("# Verifying")
    tampered = tmp_path / f"messages/{otps[0]}.json"
    tampered.write_bytes(tampered.read_bytes().replace(b"000000", b"999999"))
    assert (
        subprocess.run(
            ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=tmp_path, capture_output=True, check=False
        ).returncode
        != 0
    )
    assert (
        subprocess.run(
            [sys.executable, "verify_export.py", "."], cwd=tmp_path, capture_output=True, check=False
        ).returncode
        != 0
    )


def test_rerender_reproduces_the_archived_bytes(service: Service, customer: dict[str, Any]) -> None:
    body = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]}
    message_id = str(service.send(body, key="inv-1").json()["messages"][0]["id"])
    service.work()
    with Session(service.runtime.engine) as session:
        entry = find_entry(session, message_id)
        assert entry is not None
        produced, result = rerender(session, service.runtime.archive, entry)
    assert result.matches and result.first_difference is None and produced.startswith(b"")
    from ccm.compliance.rerender import first_difference

    assert "byte 3 (line 1)" in str(first_difference(b"abcdef", b"abcXef"))


def test_archived_pdf_documents_are_pdf_a_3b(service: Service, customer: dict[str, Any]) -> None:
    template = service.client.get("/v1/templates/statement", headers=service.headers()).json()
    body = {"template": "statement", "customer_id": "c-1", "data": template["latest"]["sample_data"]}
    message_id = str(service.send(body, key="st-1").json()["messages"][0]["id"])
    service.work()
    pdf = service.client.get(f"/v1/archive/{message_id}/content", headers=service.headers()).content
    with pikepdf.open(io.BytesIO(pdf)) as document, document.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "3" and xmp["pdfaid:conformance"] == "B"


def test_erasure_blanks_live_data_keeps_archive_until_retention_then_shreds(
    service: Service, otps: list[str]
) -> None:
    assert (
        service.client.post("/v1/customers/c-1/erase", headers=service.headers(Role.COMPLIANCE)).status_code
        == 403
    )
    erased = service.client.post("/v1/customers/c-1/erase", headers=service.headers())
    assert erased.status_code == 200, erased.text
    assert erased.json()["archived_items_retained"] == 3 and not erased.json()["data_key_destroyed"]
    with Session(service.runtime.engine) as session:
        customer = session.exec(select(Customer)).one()
        assert customer.email is None and customer.phone is None and customer.attributes == {}
        messages = session.exec(select(Message)).all()
        assert {m.recipient for m in messages} == {"erased"} and all(m.context == {} for m in messages)
    assert service.client.get(f"/v1/archive/{otps[0]}/content", headers=service.headers()).status_code == 200
    future = utcnow() + timedelta(days=91)
    service.runtime.archive.store.clock = lambda: future  # type: ignore[union-attr]
    result = purge_expired(service.runtime.engine, service.runtime.archive, now=future)
    assert len(result.purged) == 3 and len(result.keys_destroyed) == 1
    assert service.client.get("/v1/archive/verify", headers=service.headers()).json()["ok"]


def test_a_second_customer_has_its_own_data_key(service: Service, otps: list[str]) -> None:
    service.client.put("/v1/customers/c-2", json={"phone": "+393471234502"}, headers=service.headers())
    other = send_otps(service, 1, customer="c-2")
    with session_scope(service.runtime.engine) as session:
        first, second = find_entry(session, otps[0]), find_entry(session, other[0])
        assert first and second and first.key_id != second.key_id
