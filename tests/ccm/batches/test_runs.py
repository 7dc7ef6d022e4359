"""Batch runs end to end in one process: every good document becomes a message under the send rules, every
bad one a failure with its line and reason; print runs end archived; resuming queues nothing twice."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from ccm.access.models import Role
from ccm.batches.models import BatchMode, BatchSource
from ccm.batches.queueing import queue_chunk
from ccm.batches.runs import RunRequest, open_run
from ccm.communications.models import MessageStatus
from ccm.database import session_scope
from ccm.errors import Conflict
from tests.ccm.batches.conftest import add_customers, invoice, jsonl, messages_of, run_to_end
from tests.ccm.conftest import Service


def _request(path: Path, **extra: object) -> RunRequest:
    values: dict[str, object] = {
        "template": "invoice",
        "source": BatchSource.JSONL if path.suffix == ".jsonl" else BatchSource.CSV,
        "input_name": path.name,
        "input_path": path,
        "channels": ["email"],
    }
    values.update(extra)
    return RunRequest(**values)  # type: ignore[arg-type]


def test_a_jsonl_run_sends_good_documents_and_lists_bad_ones_by_line(
    service: Service, tmp_path: Path
) -> None:
    add_customers(service, 3)
    broken = invoice(4)
    del broken["invoice"]["total"]
    path = jsonl(
        tmp_path / "run.jsonl",
        [
            {"customer_id": "c-1", "data": invoice(1)},
            '{"customer_id": "c-2", "data": ',
            {"customer_id": "c-404", "data": invoice(3)},
            {"customer_id": "c-2", "data": broken},
            {"customer_id": "c-3", "data": invoice(5)},
        ],
    )
    progress, failures = run_to_end(service, _request(path), chunk_size=2)
    assert (progress.status, progress.total, progress.considered) == ("completed", 5, 5)
    assert (progress.queued, progress.done, progress.refused, progress.failed_messages) == (2, 2, 3, 0)
    assert progress.pages == 2  # each email attaches its one-page invoice
    assert [(f["line"], f["customer_id"], f["code"]) for f in failures] == [
        (2, None, "invalid_json"),
        (3, "c-404", "customer_not_found"),
        (4, "c-2", "missing_variable"),
    ]
    messages = messages_of(service, progress.run_id)
    assert [(m.batch_line, m.status, m.channel) for m in messages] == [
        (1, "sent", "email"),
        (5, "sent", "email"),
    ]
    assert messages[0].context["invoice"]["number"] == "B-00001"


def test_a_csv_run_nests_dotted_columns(service: Service, tmp_path: Path) -> None:
    add_customers(service, 2)
    path = tmp_path / "run.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "customer_id",
                "invoice.number",
                "invoice.issue_date",
                "invoice.due_date",
                "invoice.currency",
                "invoice.total",
                "invoice.lines",
            ]
        )
        for number in (1, 2):
            data = invoice(number)["invoice"]
            writer.writerow(
                [
                    f"c-{number}",
                    data["number"],
                    data["issue_date"],
                    data["due_date"],
                    data["currency"],
                    data["total"],
                    json.dumps(data["lines"]),
                ]
            )
        writer.writerow(["c-2", "B-3", "2026-11-01", "2026-11-30", "euro", "1", "[]"])
    progress, failures = run_to_end(service, _request(path))
    assert (progress.done, progress.refused) == (2, 1)
    assert failures[0]["line"] == 4 and failures[0]["code"] == "data_invalid"
    messages = messages_of(service, progress.run_id)
    assert messages[1].context["invoice"]["number"] == "B-00002"
    assert messages[1].context["invoice"]["lines"][0]["description"] == "Fibre 1 Gbit/s"


def test_a_print_run_ends_archived_with_the_archive_holding_each_document(
    service: Service, tmp_path: Path
) -> None:
    add_customers(service, 2)
    path = jsonl(tmp_path / "print.jsonl", [{"customer_id": f"c-{n}", "data": invoice(n)} for n in (1, 2)])
    progress, _ = run_to_end(service, _request(path, channels=None, mode=BatchMode.ARCHIVE_ONLY))
    assert (progress.status, progress.done, progress.pages) == ("completed", 2, 2)
    messages = messages_of(service, progress.run_id)
    assert {(m.channel, m.status, m.archive_only) for m in messages} == {
        ("pdf", MessageStatus.ARCHIVED, True)
    }
    for message in messages:
        view = service.message(message.id)
        assert view["provider"] is None and "sent" not in [event["type"] for event in view["events"]]
        payload = service.client.get(view["archive"]["url"] + "/content", headers=service.headers())
        assert payload.status_code == 200 and payload.content.startswith(b"%PDF")
        assert hashlib.sha256(payload.content).hexdigest() == view["archive"]["sha256"]


def test_a_segment_run_sends_the_shared_data_to_each_customer_in_it(service: Service) -> None:
    add_customers(service, 2, plan="pro")
    add_customers(service, 2, plan="basic", start=3)
    rule = {"all": [{"attribute": "plan", "op": "eq", "value": "pro"}]}
    response = service.client.post(
        "/v1/segments",
        json={"key": "pro", "name": "Pro", "rule": rule},
        headers=service.headers(Role.MARKETER),
    )
    assert response.status_code == 201, response.text
    request = RunRequest(
        template="invoice",
        source=BatchSource.SEGMENT,
        input_name="segment:pro",
        segment="pro",
        data=invoice(9),
        channels=["email"],
    )
    progress, failures = run_to_end(service, request, chunk_size=1)
    assert (progress.total, progress.considered, progress.done, failures) == (2, 2, 2, [])
    messages = messages_of(service, progress.run_id)
    assert [m.batch_line for m in messages] == [1, 2]
    assert {m.recipient for m in messages} == {"person1@example.com", "person2@example.com"}


def test_starting_a_run_again_resumes_it_and_queues_nothing_twice(service: Service, tmp_path: Path) -> None:
    add_customers(service, 5)
    path = jsonl(
        tmp_path / "resume.jsonl", [{"customer_id": f"c-{n}", "data": invoice(n)} for n in range(1, 6)]
    )
    with session_scope(service.runtime.engine) as session:
        run, resumed = open_run(session, _request(path))
        run_pk, run_id = run.id, run.run_id
    assert run_pk is not None and not resumed
    queue_chunk(service.runtime.engine, run_pk, service.settings, chunk_size=2)  # then "killed"
    assert len(messages_of(service, run_id)) == 2
    with session_scope(service.runtime.engine) as session:
        again, resumed = open_run(session, _request(path))
        assert resumed and again.run_id == run_id and again.considered == 2
    progress, _ = run_to_end(service, _request(path), chunk_size=2)
    messages = messages_of(service, run_id)
    assert [m.batch_line for m in messages] == [1, 2, 3, 4, 5]
    assert (progress.queued, progress.done) == (5, 5)
    other = jsonl(tmp_path / "other.jsonl", [{"customer_id": "c-1", "data": invoice(9)}])
    with session_scope(service.runtime.engine) as session, pytest.raises(Conflict):
        open_run(session, _request(other, run_id=run_id))
