"""Tamper evidence on the filesystem store: each alteration is named by message id; a lawful purge is not."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.archiving.models import ChainRecord
from ccm.compliance import cli
from ccm.compliance.purge import purge_expired
from ccm.database import session_scope, utcnow
from tests.ccm.compliance.conftest import entry, object_path, verify
from tests.ccm.conftest import Service


def problems(report: dict[str, Any], message_id: str) -> set[str]:
    return {i["problem"] for i in report["issues"] if i["message_id"] == message_id}


def test_untouched_archive_verifies_with_a_signed_chain(service: Service, otps: list[str]) -> None:
    report = verify(service)
    assert report["ok"] and report["records"] == 3 and report["objects_checked"] == 3, report
    positions = [entry(service, m).chain_seq for m in otps]
    assert positions == [1, 2, 3]
    args = argparse.Namespace(json=False)
    assert cli._verify(service.settings, args) == 0


def test_flipping_one_byte_is_reported_as_altered(
    service: Service, otps: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = object_path(service, otps[1])
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify(service)
    assert not report["ok"] and problems(report, otps[1]) == {"altered"}
    assert problems(report, otps[0]) == set() and problems(report, otps[2]) == set()
    assert cli._verify(service.settings, argparse.Namespace(json=False)) == 1
    assert f"ALTERED: message {otps[1]}" in capsys.readouterr().out
    content = service.client.get(f"/v1/archive/{otps[1]}/content", headers=service.headers())
    assert content.status_code == 400 and content.json()["error"]["code"] == "integrity_error"


def test_deleting_a_file_is_reported_as_missing(service: Service, otps: list[str]) -> None:
    object_path(service, otps[0]).unlink()
    report = verify(service)
    assert problems(report, otps[0]) == {"missing"}


def test_swapping_two_entries_names_both(service: Service, otps: list[str]) -> None:
    first, second = object_path(service, otps[0]), object_path(service, otps[2])
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    report = verify(service)
    assert problems(report, otps[0]) == {"reordered"} and problems(report, otps[2]) == {"reordered"}
    assert otps[2] in next(i["detail"] for i in report["issues"] if i["message_id"] == otps[0])


def test_reordering_or_editing_chain_records_is_detected(service: Service, otps: list[str]) -> None:
    with session_scope(service.runtime.engine) as session:
        records = session.exec(select(ChainRecord).order_by(col(ChainRecord.seq))).all()
        body = dict(records[1].body)
        body["content_sha256"] = "0" * 64
        records[1].body = body
        session.add(records[1])
    report = verify(service)
    assert problems(report, otps[1]) >= {"altered"}


def test_an_extra_object_is_reported(service: Service, otps: list[str]) -> None:
    path = object_path(service, otps[0])
    (path.parent / "00000000-0000-4000-8000-00000000beef").write_bytes(b"planted")
    report = verify(service)
    assert problems(report, "00000000-0000-4000-8000-00000000beef") == {"extra"}


def test_purge_past_retention_keeps_verify_green_and_respects_legal_hold(
    service: Service, otps: list[str]
) -> None:
    held = service.client.put(
        f"/v1/archive/{otps[0]}/legal-hold",
        json={"on": True, "reason": "dispute 7"},
        headers=service.headers(),
    )
    assert held.status_code == 200 and held.json()["legal_hold"] is True
    future = utcnow() + timedelta(days=91)  # OTP retention is 90 days
    service.runtime.archive.store.clock = lambda: future  # type: ignore[union-attr]
    result = purge_expired(service.runtime.engine, service.runtime.archive, now=future)
    assert sorted(result.purged) == sorted(otps[1:])
    assert not object_path(service, otps[0]).parent.joinpath(otps[1]).exists()
    report = verify(service)
    assert report["ok"] and report["tombstones"] == 2 and report["records"] == 5, report
    gone = service.client.get(f"/v1/archive/{otps[1]}/content", headers=service.headers())
    assert gone.status_code == 410
    assert service.client.get(f"/v1/archive/{otps[0]}/content", headers=service.headers()).status_code == 200
