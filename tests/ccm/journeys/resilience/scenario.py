"""A five-step journey run by real `ccm serve` and `ccm worker` processes, shared by the kill test
(`test_journey_kill.py`) and `benchmarks/journeys.py`, so both measure the same thing.

The journey: email → wait PT1M → branch on the email's human open → SMS → set an attribute. Nobody opens,
so every run passes all five steps and queues two messages, both to the outbox provider. The engine reads
its time from a test clock (`CCM_TEST_CLOCK_FILE`) that follows real time, and a caller moves it on to pass
the wait without waiting a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert
from sqlmodel import Session, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.access.models import Role
from ccm.access.service import create_api_key
from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.database import make_engine, session_scope, utcnow
from ccm.journeys.models import Enrolment, StepRun
from ccm.registry import service as registry
from ccm.registry import workflow
from ccm.registry.schemas import TemplateCreate
from tests.ccm.communications.resilience.conftest import ROOT, wait_until

EVENT = "order_shipped"
SEND_STEPS = {"mail": "email", "sms": "sms"}
"""The journey's send steps and their channels: one message each per run."""
STEPS = ("mail", "wait", "check", "sms", "done")
TEMPLATES: list[dict[str, Any]] = [
    {
        "key": "shipped-mail",
        "name": "Shipped",
        "category": "transactional",
        "parts": {
            "email": {
                "subject": "Order {{ order }} shipped",
                "html": "<html><body><p>Hello {{ customer.first_name }}, order {{ order }} is on its way.</p>"
                '<p><a href="https://example.com/o/{{ order }}">track it</a></p></body></html>',
            }
        },
        "sample_data": {"order": "A-1"},
    },
    {
        "key": "shipped-sms",
        "name": "Shipped reminder",
        "category": "transactional",
        "parts": {"sms": {"text": "Order {{ order }} arrives soon. Track it in the app."}},
        "sample_data": {"order": "A-1"},
    },
]
JOURNEY: dict[str, Any] = {
    "key": "shipping-chase",
    "name": "Shipping chase",
    "category": "transactional",
    "trigger": {"event": EVENT},
    "reentry": "once",
    "steps": [
        {"id": "mail", "send": {"template": "shipped-mail", "channel": "email"}},
        {"id": "wait", "wait": {"duration": "PT1M"}},
        {"id": "check", "branch": {"if": {"opened": "mail"}, "then": "done", "else": "sms"}},
        {"id": "sms", "send": {"template": "shipped-sms", "channel": "sms"}},
        {"id": "done", "update": {"attribute": "shipping_chased", "value": True}},
    ],
}
WAIT_PASSED = timedelta(minutes=2)
"""Moving the clock on by this much passes the wait of every run already in it."""


def prepare(url: str, customers: int) -> str:
    """The two templates (published), `customers` people with an email and a phone, and an admin key."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        for template in TEMPLATES:
            registry.create_template(session, TemplateCreate.model_validate(template), author=SYSTEM_IDENTITY)
            workflow.publish(session, template["key"], 1, SYSTEM_IDENTITY, approval_categories=())
        _, key = create_api_key(session, role=Role.ADMIN, name="journey-kill")
    now = utcnow()
    with engine.begin() as connection:
        for start in range(0, customers, 5000):
            rows = [
                {
                    "external_id": f"j-{n}",
                    "email": f"j{n}@example.com",
                    "phone": f"+39347{n:07d}",
                    "locale": "en",
                    "timezone": "UTC",
                    "attributes": {"first_name": f"J{n}"},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(start, min(customers, start + 5000))
            ]
            connection.execute(insert(Customer), rows)
    engine.dispose()
    return key


@dataclass
class Clock:
    """The journey engine's now for every process: a file they all read, holding real time plus the jumps a
    caller made. It keeps following real time because the engine's leases and retry backoffs are on this
    clock too: under a clock that stood still, the runs of a killed worker (or of a step that failed when the
    database dropped its connections) would never be claimed again."""

    path: Path
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
        self.write()

    def write(self) -> None:
        """Replace the file whole, so no reader sees it half-written."""
        spare = self.path.with_name(f".{self.path.name}.tmp")
        spare.write_text(self.now().isoformat())
        os.replace(spare, self.path)


@contextmanager
def ticking(path: Path, every: float = 0.2) -> Iterator[Clock]:
    """A clock file that follows real time (rewritten every `every` seconds) until the block ends."""
    clock = Clock(path)
    clock.write()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            clock.write()

    thread = threading.Thread(target=tick, name="journey-clock", daemon=True)
    thread.start()
    try:
        yield clock
    finally:
        stop.set()
        thread.join(5)


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`ccm serve --no-worker` on `port` until the block ends; its base URL once /health answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ccm.cli", "serve", "--no-worker", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_until(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, 60, 0.2)
        assert up, log.read_text()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def publish_journey(base: str, key: str) -> None:
    """Create and publish the journey through the API (transactional: no second person needed)."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        created = http.post("/v1/journeys", json=JOURNEY)
        assert created.status_code == 201, created.text
        published = http.post(f"/v1/journeys/{JOURNEY['key']}/versions/1/publish")
        assert published.status_code == 200, published.text


def enrol(base: str, key: str, customers: int, clients: int = 8) -> float:
    """POST one `order_shipped` event per customer from `clients` threads; the seconds it took. Each
    request carries an Idempotency-Key, and each must enrol its customer exactly once."""
    numbers = iter(range(customers))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                body = {"customer_id": f"j-{n}", "name": EVENT, "properties": {"order": f"A-{n}"}}
                response = http.post("/v1/events", json=body, headers={"Idempotency-Key": f"ship-{n}"})
                if response.status_code != 202 or len(response.json()["enrolments"]) != 1:
                    failures.append(f"j-{n}: {response.status_code} {response.text}")

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return time.monotonic() - started


@dataclass(frozen=True)
class Progress:
    runs: dict[str, int]
    """Runs by status."""
    steps: dict[str, int]
    """Step runs by step id."""
    messages: dict[str, int]
    """Messages by status."""

    @property
    def active(self) -> int:
        return self.runs.get("active", 0)

    @property
    def sent(self) -> int:
        return self.messages.get("sent", 0)


def progress(url: str) -> Progress:
    engine = make_engine(url)
    with Session(engine) as session:
        runs = session.exec(select(Enrolment.status, func.count()).group_by(Enrolment.status)).all()
        steps = session.exec(select(StepRun.step_id, func.count()).group_by(StepRun.step_id)).all()
        messages = session.exec(select(Message.status, func.count()).group_by(Message.status)).all()
    engine.dispose()
    return Progress(
        runs={str(k): int(n) for k, n in runs},
        steps={str(k): int(n) for k, n in steps},
        messages={str(k): int(n) for k, n in messages},
    )
