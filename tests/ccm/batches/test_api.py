"""`POST /v1/batches`: an uploaded input becomes a run the scheduler queues from its checkpoint and the
workers send; `GET /v1/batches/{id}` reports it; a bad upload is a 4xx naming the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ccm.access.models import Role
from ccm.app import create_app
from ccm.batches.jobs import work_batches
from ccm.batches.queueing import queue_chunk
from ccm.batches.runs import get_run
from ccm.communications.worker import Worker
from ccm.database import session_scope
from tests.ccm.batches.conftest import add_customers, invoice
from tests.ccm.conftest import Service


def _upload(
    service: Service, name: str, content: bytes, form: dict[str, str] | None = None, role: Role = Role.ADMIN
) -> Any:
    fields = {"template": "invoice", "channels": "email", **(form or {})}
    return service.client.post(
        "/v1/batches",
        data=fields,
        files={"file": (name, content, "application/octet-stream")},
        headers=service.headers(role),
    )


def _lines(*documents: dict[str, Any]) -> bytes:
    return "".join(json.dumps(document) + "\n" for document in documents).encode()


def test_an_uploaded_run_is_queued_by_the_scheduler_and_reports_progress(service: Service) -> None:
    add_customers(service, 2)
    content = _lines(
        {"customer_id": "c-1", "data": invoice(1)},
        {"customer_id": "c-9", "data": invoice(2)},
        {"customer_id": "c-2", "data": invoice(3)},
    )
    response = _upload(service, "november.jsonl", content)
    assert response.status_code == 202, response.text
    started = response.json()
    assert (started["status"], started["total"], started["considered"], started["input_name"]) == (
        "running",
        3,
        0,
        "november.jsonl",
    )
    run_id = started["id"]
    again = _upload(service, "retried.jsonl", content)  # a retried upload is the same run
    assert again.status_code == 202 and again.json()["id"] == run_id

    work_batches(service.runtime)  # the scheduler's job: queue from the checkpoint
    queued = service.client.get(f"/v1/batches/{run_id}", headers=service.headers(Role.MARKETER)).json()
    assert (queued["status"], queued["considered"], queued["queued"], queued["done"]) == ("queued", 3, 2, 0)
    Worker(service.runtime).run_until_idle()
    work_batches(service.runtime)  # ... and the run's completion, pages counted
    done = service.client.get(f"/v1/batches/{run_id}", headers=service.headers()).json()
    assert (done["status"], done["done"], done["failed"], done["pages"]) == ("completed", 2, 1, 2)
    assert done["failures"] == [
        {
            "line": 2,
            "customer_id": "c-9",
            "code": "customer_not_found",
            "reason": "customer 'c-9' not found",
            "message_id": None,
        }
    ]
    paged = service.client.get(f"/v1/batches/{run_id}?failures_offset=1", headers=service.headers())
    assert paged.status_code == 200 and paged.json()["failures"] == []
    assert list((service.settings.data_dir / "batches").iterdir()) == []  # the upload is gone once done


def test_an_uploaded_run_interrupted_by_a_restart_goes_on_from_its_checkpoint(service: Service) -> None:
    add_customers(service, 3)
    content = _lines(*({"customer_id": f"c-{n}", "data": invoice(n)} for n in (1, 2, 3)))
    response = _upload(service, "restart.jsonl", content)
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    with session_scope(service.runtime.engine) as session:
        run_pk = get_run(session, run_id).id
    assert run_pk is not None
    queue_chunk(service.runtime.engine, run_pk, service.settings, chunk_size=1)  # then the server stops
    service.client.__exit__(None, None, None)
    restarted = service_after_restart(service)
    try:
        work_batches(restarted.runtime)
        Worker(restarted.runtime).run_until_idle()
        work_batches(restarted.runtime)
        done = restarted.client.get(f"/v1/batches/{run_id}", headers=service.headers()).json()
    finally:
        restarted.client.__exit__(None, None, None)
    assert (done["status"], done["queued"], done["done"]) == ("completed", 3, 3)


def service_after_restart(service: Service) -> Service:
    """The same settings and database in a new app (a new process, as far as the run can tell)."""
    client = TestClient(create_app(service.settings, background=False))
    client.__enter__()
    return Service(client=client, settings=service.settings, keys=service.keys, reviewer=service.reviewer)


def test_a_segment_run_through_the_api(service: Service) -> None:
    add_customers(service, 1)
    rule = {"all": [{"attribute": "plan", "op": "eq", "value": "basic"}]}
    created = service.client.post(
        "/v1/segments", json={"key": "basic", "name": "Basic", "rule": rule}, headers=service.headers()
    )
    assert created.status_code == 201, created.text
    body = {"template": "invoice", "channels": "email", "segment": "basic", "data": json.dumps(invoice(1))}
    response = service.client.post("/v1/batches", data=body, headers=service.headers())
    assert response.status_code == 202, response.text
    assert (response.json()["source"], response.json()["total"]) == ("segment", 1)


@pytest.mark.parametrize(
    ("name", "content", "form", "status", "code"),
    [
        ("empty.jsonl", b"", {}, 422, "empty_input"),
        ("invoices.xlsx", b"PK\x03\x04", {}, 422, "unsupported_input"),
        (
            "invoices.jsonl",
            b'{"customer_id": "c-1"}\n',
            {"template": "no-such-template"},
            404,
            "template_not_found",
        ),
        ("invoices.csv", b"name,number\nx,1\n", {}, 422, "invalid_input"),
        ("invoices.jsonl", b"\xff\xfe not utf-8\n", {}, 422, "invalid_input"),
        ("invoices.jsonl", b'{"customer_id": "c-1"}\n', {"channels": "fax"}, 422, None),
        ("invoices.jsonl", b'{"customer_id": "c-1"}\n', {"data": "{}"}, 422, None),
    ],
)
def test_bad_uploads_are_refused_with_a_4xx_and_leave_nothing(
    service: Service, name: str, content: bytes, form: dict[str, str], status: int, code: str | None
) -> None:
    response = _upload(service, name, content, form)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
    uploads = service.settings.data_dir / "batches"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_refusals_without_a_file_or_the_right_role(service: Service) -> None:
    neither = service.client.post("/v1/batches", data={"template": "invoice"}, headers=service.headers())
    assert neither.status_code == 422 and neither.json()["error"]["code"] == "invalid_input"
    viewer = _upload(service, "x.jsonl", b'{"customer_id": "c-1"}\n', role=Role.MARKETER)
    assert viewer.status_code == 403
    missing = service.client.get("/v1/batches/no-such-run", headers=service.headers())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "batch_not_found"
