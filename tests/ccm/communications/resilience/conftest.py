"""Worker processes against a real PostgreSQL: a database of their own, and helpers to queue and watch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.communications.models import Message
from ccm.communications.service import create_message
from ccm.customers.models import Customer
from ccm.database import make_engine, session_scope, utcnow
from ccm.migrate import upgrade
from ccm.registry import service as registry
from ccm.registry import workflow
from ccm.registry.schemas import TemplateCreate
from tests.ccm.conftest import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parents[4]
SMALL_EMAIL = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {
        "email": {
            "subject": "Notice {{ n }}",
            "html": "<html><body><p>Hello {{ customer.first_name }}, notice {{ n }}.</p>"
            '<p><a href="https://example.com/n/{{ n }}">details</a></p></body></html>',
        }
    },
}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"ccm_workers_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def queue_emails(url: str, count: int, *, customers: int = 200) -> list[str]:
    """Queue `count` emails the way the send API does after validation, in large transactions."""
    engine = make_engine(url)
    ids: list[str] = []
    with session_scope(engine) as session:
        template = registry.create_template(
            session, TemplateCreate.model_validate(SMALL_EMAIL), author=SYSTEM_IDENTITY
        )
        version = workflow.publish(session, "notice", 1, SYSTEM_IDENTITY, approval_categories=())
        people = []
        for number in range(customers):
            person = Customer(
                external_id=f"k-{number}",
                email=f"k{number}@example.com",
                attributes={"first_name": f"P{number}"},
            )
            session.add(person)
            people.append(person)
        session.flush()
    now = utcnow()
    for start in range(0, count, 2000):
        with session_scope(engine) as session:
            session.add(template)
            session.add(version)
            for n in range(start, min(count, start + 2000)):
                person = people[n % customers]
                session.add(person)
                context = {"customer": {"first_name": person.attributes["first_name"]}, "n": n}
                message = create_message(
                    session,
                    template=template,
                    version=version,
                    customer=person,
                    channel="email",
                    context=context,
                    due=now,
                    deadline=now + timedelta(hours=1),
                )
                ids.append(message.id)
    engine.dispose()
    return ids


def count_by_status(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(Message.status, func.count()).group_by(Message.status)).all()
    engine.dispose()
    return {str(status): int(n) for status, n in rows}


@dataclass
class WorkerProcesses:
    """`ccm worker` processes sharing one database, started and killed like an operator would."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, index: int, concurrency: int = 2) -> None:
        log = (self.log_dir / f"worker-{index}-{len(self.processes)}.log").open("ab")
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "ccm.cli", "worker", "--concurrency", str(concurrency)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def kill(self, index: int) -> None:
        process = self.processes[index]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def worker_env(url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update(
        {
            "CCM_ENV": "test",
            "CCM_DATABASE_URL": url,
            "CCM_DATA_DIR": str(data_dir),
            "CCM_SECRET_KEY": "kill-test-secret-" + "x" * 32,
            "CCM_BASE_URL": "http://ccm.test",
            "CCM_LOG_FORMAT": "json",
            "CCM_LOG_LEVEL": "WARNING",
        }
    )
    env.update({f"CCM_{k.upper()}": v for k, v in settings.items()})
    return env


def wait_until(predicate: object, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False
