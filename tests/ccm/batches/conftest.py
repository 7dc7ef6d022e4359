"""Batch runs against the service under test: customers to send to, input files, and a run worked to its end
in this process (the queueing, then the outbox worker, then the run's completion)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from ccm.batches.models import BatchRun
from ccm.batches.progress import Progress, failures_of, finish_if_done, progress_of
from ccm.batches.queueing import queue_all
from ccm.batches.runs import RunRequest, open_run
from ccm.communications.models import Message
from ccm.communications.worker import Worker
from ccm.database import session_scope
from tests.ccm.conftest import INVOICE_DATA, Service


def add_customers(service: Service, count: int, *, plan: str = "basic", start: int = 1) -> None:
    for number in range(start, start + count):
        body = {
            "email": f"person{number}@example.com",
            "locale": "en",
            "timezone": "Europe/London",
            "attributes": {"first_name": f"P{number}", "last_name": "Rossi", "plan": plan},
        }
        response = service.client.put(f"/v1/customers/c-{number}", json=body, headers=service.headers())
        assert response.status_code in (200, 201), response.text


def invoice(number: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(INVOICE_DATA))
    data["invoice"]["number"] = f"B-{number:05d}"
    return data


def jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def run_to_end(
    service: Service, request: RunRequest, *, chunk_size: int = 200
) -> tuple[Progress, list[dict[str, Any]]]:
    """Open (or resume) the run, queue it, let the outbox worker send it, complete it."""
    runtime = service.runtime
    with session_scope(runtime.engine) as session:
        run, _ = open_run(session, request)
        run_pk = run.id
    assert run_pk is not None
    queue_all(runtime.engine, run_pk, service.settings, chunk_size=chunk_size)
    Worker(runtime).run_until_idle()
    finish_if_done(runtime.engine, runtime.archive, run_pk)
    return state(service, run_pk)


def state(service: Service, run_pk: int) -> tuple[Progress, list[dict[str, Any]]]:
    with session_scope(service.runtime.engine) as session:
        run = session.get(BatchRun, run_pk)
        assert run is not None
        return progress_of(session, run), failures_of(session, run)


def messages_of(service: Service, run_id: str) -> list[Message]:
    with session_scope(service.runtime.engine) as session:
        run = session.exec(select(BatchRun).where(BatchRun.run_id == run_id)).one()
        return list(
            session.exec(
                select(Message).where(Message.batch_id == run.id).order_by(col(Message.batch_line))
            ).all()
        )
