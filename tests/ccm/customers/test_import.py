"""Importing customers from a CSV or JSONL file: upserts by external id through the same validation a `PUT`
uses (declared attribute types included), rejected rows listed in `<input>.report.csv` with their line,
chunked commits or all-or-nothing, and the exit codes of `ccm customers import`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ccm.customers import bulk, importing
from ccm.customers.import_readers import UsageError
from ccm.customers.importing import ImportOptions, import_file, report_path
from tests.ccm.conftest import Service

CSV_ROWS = """external_id,email,phone,locale,timezone,score,vip,tier
c1,Anna@Example.com,+39 347 123 4501,it,Europe/Rome,12.5,true,gold
c2,not-an-email,,,,3,false,
c3,,,,,abc,,
c4,,,de-CH,,7,no,free text
"c5",,,,,,,
"""


def declare(service: Service, name: str, type_: str) -> None:
    response = service.client.post(
        "/v1/customer-attributes", json={"name": name, "type": type_}, headers=service.headers()
    )
    assert response.status_code == 201, response.text


def stored(service: Service, external_id: str) -> dict[str, Any] | None:
    response = service.client.get(f"/v1/customers/{external_id}", headers=service.headers())
    return response.json() if response.status_code == 200 else None


def report(path: Path) -> list[dict[str, str]]:
    with report_path(path).open(newline="") as stream:
        return list(csv.DictReader(stream))


def engine_of(service: Service) -> Engine:
    return service.runtime.engine


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_are_typed_upserted_and_rejections_reported(service: Service, tmp_path: Path) -> None:
    declare(service, "score", "number")
    declare(service, "vip", "boolean")
    service.client.put("/v1/customers/c4", json={"attributes": {"old": "x"}}, headers=service.headers())
    path = write(tmp_path, "customers.csv", CSV_ROWS)

    result = import_file(engine_of(service), path, ImportOptions(chunk=2))

    assert (result.rows, result.imported, result.created, result.rejected) == (5, 3, 2, 2)
    assert result.exit_code == 1
    anna = stored(service, "c1")
    assert anna is not None
    assert (anna["email"], anna["phone"], anna["locale"], anna["timezone"]) == (
        "anna@example.com",
        "+393471234501",
        "it",
        "Europe/Rome",
    )
    assert anna["attributes"] == {"score": 12.5, "vip": True, "tier": "gold"}
    updated = stored(service, "c4")
    assert updated is not None and updated["attributes"] == {"score": 7, "vip": False, "tier": "free text"}
    assert updated["locale"] == "de_CH"
    assert (
        stored(service, "c5") is not None and stored(service, "c2") is None and stored(service, "c3") is None
    )
    assert [(r["line"], r["external_id"], r["field"]) for r in report(path)] == [
        ("3", "c2", "email"),
        ("4", "c3", "attributes.score"),
    ]
    assert "must be a number" in report(path)[1]["reason"]


def test_jsonl_lines_are_put_bodies_plus_external_id(service: Service, tmp_path: Path) -> None:
    declare(service, "score", "number")
    lines = [
        json.dumps({"external_id": "j1", "email": "j1@example.com", "attributes": {"score": 4, "note": "n"}}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"external_id": "j2", "attributes": {"score": "4"}}),
        json.dumps({"external_id": "j3", "locale": "xx-nope"}),
        json.dumps({"external_id": "j4", "unknown": 1}),
        json.dumps({"external_id": "j1", "email": "again@example.com"}),
    ]
    path = write(tmp_path, "customers.jsonl", "\n".join(lines) + "\n")

    result = import_file(engine_of(service), path)

    assert (result.rows, result.imported, result.rejected) == (7, 2, 5)
    rows = report(path)
    assert [(r["line"], r["external_id"], r["field"]) for r in rows] == [
        ("3", "", ""),
        ("4", "", ""),
        ("5", "j2", "attributes.score"),
        ("6", "j3", "locale"),
        ("7", "j4", "unknown"),
    ]
    j1 = stored(service, "j1")
    assert j1 is not None and j1["email"] == "again@example.com" and j1["attributes"] == {}


def test_all_or_nothing_imports_nothing_when_a_row_is_rejected(service: Service, tmp_path: Path) -> None:
    declare(service, "score", "number")
    path = write(tmp_path, "customers.csv", CSV_ROWS)

    result = import_file(engine_of(service), path, ImportOptions(all_or_nothing=True, chunk=1))

    assert (result.imported, result.rejected, result.exit_code) == (0, 2, 1)
    assert [r["line"] for r in report(path)] == ["3", "4"]
    for external_id in ("c1", "c4", "c5"):
        assert stored(service, external_id) is None

    good = write(tmp_path, "good.csv", "external_id,score\na,1\nb,2.5\n")
    done = import_file(engine_of(service), good, ImportOptions(all_or_nothing=True, chunk=1))
    assert (done.imported, done.rejected, done.exit_code) == (2, 0, 0)
    assert report(good) == []
    b = stored(service, "b")
    assert b is not None and b["attributes"] == {"score": 2.5}


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("missing.csv", None, None),
        ("customers.txt", "external_id\na\n", None),
        ("customers.csv", "id,email\na,a@example.com\n", None),
        ("customers.csv", "", None),
        ("customers.data", "external_id,external_id\n", "csv"),
    ],
)
def test_usage_errors_write_nothing(
    service: Service, tmp_path: Path, name: str, text: str | None, fmt: str | None
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(UsageError):
        import_file(engine_of(service), path, ImportOptions(fmt=fmt))
    assert not report_path(path).exists()


def ccm(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_DATABASE_URL": service.settings.database_url, "CCM_ENV": "development"})
    env["CCM_DATA_DIR"] = str(service.settings.data_dir)
    command = [sys.executable, "-m", "ccm.cli", "customers", "import", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_exit_codes(service: Service, tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", '{"external_id": "x1", "locale": "fr"}\n')
    some_bad = write(tmp_path, "bad.data", "external_id,email\nx2,nope\nx3,\n")
    no_id = write(tmp_path, "noid.csv", "email\na@example.com\n")

    done = ccm(service, str(good))
    assert done.returncode == 0, done.stderr
    assert "rows: 1  imported: 1" in done.stdout and "1 rows" in done.stderr  # the progress line
    rejected = ccm(service, "--format", "csv", str(some_bad))
    assert rejected.returncode == 1, rejected.stderr
    assert "report:" in rejected.stdout
    assert ccm(service, str(no_id)).returncode == 2
    assert ccm(service, str(tmp_path / "absent.csv")).returncode == 2
    x1 = stored(service, "x1")
    assert x1 is not None and x1["locale"] == "fr"
    assert stored(service, "x3") is not None and stored(service, "x2") is None


SAME_AS_PUT: list[dict[str, str]] = [
    {"email": "Anna@Example.COM"},
    {"email": "PostMaster@EXAMPLE.com"},
    {"email": "user@xn--bcher-kva.de"},
    {"email": "josé@Bücher.DE"},
    {"email": "ann@例え.jp"},
    {"email": '"ann"@example.com'},
    {"email": "ann@exa_mple.com"},
    {"email": "ann@example.test"},
    {"phone": "+39 347 123 4501"},
    {"phone": "+39 (347) 123-4502"},
    {"phone": "+1 650 253 0000"},
    {"phone": "3471234503"},  # national format: no default region, so refused
    {"phone": "0039 347 1234504"},
    {"phone": "+391"},
    {"locale": "DE-ch"},
    {"locale": "xx"},
    {"timezone": "Mars/Olympus"},
]


def test_an_imported_row_is_decided_and_stored_as_a_put_would(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "tricky.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
    fields = ("email", "phone", "locale", "timezone")
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["external_id", *fields])
        for n, body in enumerate(SAME_AS_PUT):
            writer.writerow([f"imp-{n}", *(body.get(field, "") for field in fields)])
    result = import_file(engine_of(service), path)
    refused = {row["external_id"]: row["field"] for row in report(path)}

    for n, body in enumerate(SAME_AS_PUT):
        put = service.client.put(f"/v1/customers/put-{n}", json=body, headers=service.headers())
        imported = stored(service, f"imp-{n}")
        if put.status_code == 201:
            assert imported is not None, body
            assert [imported[f] for f in fields] == [put.json()[f] for f in fields]
        else:
            assert put.status_code == 422 and imported is None, body
            assert refused[f"imp-{n}"] == put.json()["error"]["field"]
    assert 0 < result.rejected < result.rows == len(SAME_AS_PUT)


def stored_rows(service: Service) -> list[tuple[str, Any]]:
    with engine_of(service).connect() as connection:
        rows = connection.execute(text("SELECT external_id, attributes FROM customers ORDER BY id")).all()
    return [(external_id, json.loads(raw) if isinstance(raw, str) else raw) for external_id, raw in rows]


def test_rows_across_chunks_keep_their_order_and_the_last_of_an_id_wins(
    service: Service, tmp_path: Path
) -> None:
    """Over many chunks no row is lost, reordered or reported out of turn, a repeated id keeps its last
    row's values and its first row's place, and the progress callback sees each chunk as it is written."""
    declare(service, "score", "number")
    lines = ["external_id,score"]
    for i in range(40):
        lines.append(f"o{i % 25},{'bad' if i % 7 == 3 else i}")  # rows 25-39 repeat ids of earlier chunks
    path = write(tmp_path, "customers.csv", "\n".join(lines) + "\n")
    progress: list[int] = []

    result = import_file(engine_of(service), path, ImportOptions(chunk=3, progress=progress.append))

    valid = [i for i in range(40) if i % 7 != 3]
    first_seen = list(dict.fromkeys(f"o{i % 25}" for i in valid))
    last = {f"o{i % 25}": i for i in valid}
    assert stored_rows(service) == [(e, {"score": last[e]}) for e in first_seen]
    counts = (result.rows, result.imported, result.created, result.rejected)
    assert counts == (40, len(valid), len(first_seen), 6)
    assert [r["line"] for r in report(path)] == [str(i + 2) for i in range(40) if i % 7 == 3]
    flushed_after = [i + 1 for n, i in enumerate(valid) if n % 3 == 2]  # rows read when a chunk filled
    assert progress == [*flushed_after, 40]


class FailingWrites:
    """`write_chunk` failing on the calls named, and writing otherwise."""

    def __init__(self, failures: dict[int, BaseException]) -> None:
        self.failures, self.calls = failures, 0
        self.real = bulk.write_chunk

    def __call__(self, session: Any, rows: list[Any]) -> int:
        self.calls += 1
        if self.calls in self.failures:
            raise self.failures[self.calls]
        return self.real(session, rows)


def test_a_failed_chunk_write_surfaces_and_nothing_read_after_it_is_reported(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The earlier chunks stay committed, the error is the write's own, and rows read after the failed
    chunk are neither written nor reported."""
    declare(service, "score", "number")
    bad = {1, 6, 8, 11}
    body = "".join(f"f{i},{'x' if i in bad else i}\n" for i in range(12))
    path = write(tmp_path, "customers.csv", "external_id,score\n" + body)
    error = RuntimeError("disk full")
    writes = FailingWrites({3: error})
    monkeypatch.setattr(importing, "write_chunk", writes)
    progress: list[int] = []

    with pytest.raises(RuntimeError) as raised:
        import_file(engine_of(service), path, ImportOptions(chunk=2, progress=progress.append))

    assert raised.value is error and writes.calls == 3
    assert [e for e, _ in stored_rows(service)] == ["f0", "f2", "f3", "f4"]
    assert [r["line"] for r in report(path)] == ["3", "8"]  # rows 1 and 6; not 8 or 11, read after
    assert progress == [3, 5]


@pytest.mark.parametrize("conflicts", [1, 2])
def test_a_chunk_that_meets_a_concurrent_duplicate_is_retried_once(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, conflicts: int
) -> None:
    path = write(tmp_path, "customers.csv", "external_id\n" + "".join(f"d{i}\n" for i in range(6)))
    duplicate = IntegrityError("INSERT", {}, Exception("duplicate external_id"))
    writes = FailingWrites({2 + n: duplicate for n in range(conflicts)})
    monkeypatch.setattr(importing, "write_chunk", writes)

    if conflicts == 2:
        with pytest.raises(IntegrityError):
            import_file(engine_of(service), path, ImportOptions(chunk=2))
        assert [e for e, _ in stored_rows(service)] == ["d0", "d1"]
        return
    result = import_file(engine_of(service), path, ImportOptions(chunk=2))
    assert (result.imported, result.created, writes.calls) == (6, 6, 4)
    assert [e for e, _ in stored_rows(service)] == [f"d{i}" for i in range(6)]
