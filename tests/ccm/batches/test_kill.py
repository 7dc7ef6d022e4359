"""`ccm batch run` killed mid-run (SIGKILL, nothing flushed) and started again with the same input: every
document ends with exactly one message, all sent, and the outbox holds each exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.batches.models import BatchRun
from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.database import session_scope
from ccm.registry import service as registry
from ccm.registry import workflow
from ccm.registry.schemas import TemplateCreate
from tests.ccm.conftest import Service

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTS = 300
NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {
        "email": {
            "subject": "Statement {{ n }}",
            "html": "<html><body><p>Hello {{ customer.first_name }}, statement {{ n }}.</p></body></html>",
        }
    },
}


def _prepare(service: Service, tmp_path: Path) -> Path:
    with session_scope(service.runtime.engine) as session:
        registry.create_template(session, TemplateCreate.model_validate(NOTICE), author=SYSTEM_IDENTITY)
        workflow.publish(session, "notice", 1, SYSTEM_IDENTITY, approval_categories=())
        for n in range(DOCUMENTS):
            session.add(
                Customer(external_id=f"k-{n}", email=f"k{n}@example.com", attributes={"first_name": f"P{n}"})
            )
    path = tmp_path / "statements.jsonl"
    path.write_text(
        "".join(json.dumps({"customer_id": f"k-{n}", "data": {"n": n}}) + "\n" for n in range(DOCUMENTS))
    )
    return path


def _command(service: Service, path: Path, log: Path) -> subprocess.Popen[bytes]:
    settings = service.settings
    env = {
        **os.environ,
        "CCM_ENV": "test",
        "CCM_DATABASE_URL": settings.database_url,
        "CCM_DATA_DIR": str(settings.data_dir),
        "CCM_BASE_URL": settings.base_url,
        "CCM_SECRET_KEY": settings.secret_key,
        "CCM_TEMPLATES_DIR": str(settings.templates_dir),
        "CCM_LEASE_SECONDS": "5",  # the killed run's leases lapse quickly
        "CCM_WORKER_POLL_INTERVAL": "0.2",
    }
    command = [sys.executable, "-m", "ccm.cli", "batch", "run", "--template", "notice", "--input", str(path)]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, "--processes", "2"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )


def _sent(service: Service) -> int:
    with session_scope(service.runtime.engine) as session:
        return int(session.exec(select(func.count()).where(Message.status == "sent")).one())


def test_a_killed_run_started_again_sends_every_document_once(service: Service, tmp_path: Path) -> None:
    path = _prepare(service, tmp_path)
    log = tmp_path / "batch.log"
    first = _command(service, path, log)
    deadline = time.monotonic() + 240
    while _sent(service) < 40 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, log.read_text()  # still mid-run
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = _sent(service)
    assert 0 < killed_at < DOCUMENTS

    second = _command(service, path, log)
    assert second.wait(timeout=600) == 0, log.read_text()

    with session_scope(service.runtime.engine) as session:
        run = session.exec(select(BatchRun)).one()
        messages = session.exec(select(Message).where(col(Message.batch_id) == run.id)).all()
    assert run.status == "completed" and run.considered == DOCUMENTS
    assert len(messages) == DOCUMENTS
    assert sorted(m.batch_line for m in messages if m.batch_line is not None) == list(range(1, DOCUMENTS + 1))
    assert {m.status for m in messages} == {"sent"}
    outbox = list((service.settings.data_dir / "outbox").rglob("*.meta.json"))
    assert sorted(p.name.removesuffix(".meta.json") for p in outbox) == sorted(m.id for m in messages)
    assert "resuming run" in log.read_text()
