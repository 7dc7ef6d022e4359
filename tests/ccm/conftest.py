"""The service under test, on SQLite and on PostgreSQL: migrated once per database, emptied per test.

`service` builds a real app (TestClient, no background thread) with settings a test may override, API
keys for every role and a second admin key (`reviewer`, another identity for four-eyes approval), and
`work()` to run the outbox worker until nothing is due. `publish_reviewed()` puts a version live the way a
team does: submitted, approved by the reviewer, published. `INVOICE` and `WELCOME` are
ready-made send bodies for the `customer` fixture, and `send()` queues one and returns its message id.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Integer, Table, create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import ccm.all_models  # noqa: F401
from ccm.access.models import Role
from ccm.access.service import create_api_key
from ccm.app import create_app
from ccm.communications.worker import Worker
from ccm.database import make_engine, session_scope
from ccm.migrate import upgrade
from ccm.registry.models import Template
from ccm.registry.starter import load_starter_templates
from ccm.runtime import Runtime
from ccm.settings import PROJECT_ROOT, Settings

POSTGRES_ADMIN_URL = os.environ.get("CCM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = SQLModel.metadata.sorted_tables
BACKENDS = [b for b in os.environ.get("CCM_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database of each backend, for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ccm.db'}"
        upgrade(url)
        yield url
        return
    name = f"ccm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        # a commit need not wait for its WAL flush here: the server is not crashed under these tests (the
        # resilience tests, which restart it, make databases of their own), and the suite commits a lot
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


EMPTY_SEQUENCES = (
    "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
)
SMALL = 1_000
"""Rows per table below which DELETE empties PostgreSQL's tables faster than TRUNCATE."""


def empty_database(url: str) -> None:
    """Every table emptied, children first, and (PostgreSQL) every id sequence back at 1, as TRUNCATE …
    RESTART IDENTITY does. After most tests a table holds a few rows: DELETE in one round trip is several
    times faster (TRUNCATE makes new files for each table and index). After a bulk test (a 100k fan-out)
    TRUNCATE it is: deleting a parent row checks its children's foreign keys, and the children, emptied by
    DELETE just before, still hold every dead row until vacuumed — quadratic."""
    engine = make_engine(url)
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with session_scope(engine) as session:
        connection = session.connection()
        if not url.startswith("postgresql"):
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
        elif _largest_table(connection, tables) > SMALL:
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            statements = [f'DELETE FROM "{table}"' for table in tables] + [EMPTY_SEQUENCES]
            connection.exec_driver_sql("; ".join(statements))
    engine.dispose()


def _largest_table(connection: Connection, tables: list[str]) -> int:
    """The row count of the fullest table, counted up to `SMALL` + 1 (one round trip, no full count)."""
    counts = [f'(SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT {SMALL + 1}) AS t)' for table in tables]
    return int(connection.exec_driver_sql(f"SELECT greatest({', '.join(counts)})").scalar_one())


_starter_rows: dict[tuple[str, Path], list[tuple[Table, list[dict[str, Any]]]]] = {}


def seed_starter_templates(engine: Engine, templates_dir: Path) -> None:
    """The starter library, as `load_starter_templates` writes it into an empty database: loaded for real
    the first time per database and folder, then copied back row for row (one INSERT per table instead of
    ~110 ORM statements and the contracts' checks, most of a test's set-up). Into a database that already
    has templates (a second service in one test) it loads for real, which adds only what is missing."""
    key = (engine.url.render_as_string(hide_password=False), templates_dir)
    rows = _starter_rows.get(key)
    with engine.begin() as connection:
        empty = connection.execute(select(Template.id).limit(1)).first() is None  # type: ignore[call-overload]
    if rows is None or not empty:
        with session_scope(engine) as session:
            load_starter_templates(session, templates_dir)
        if rows is None and empty:
            with engine.connect() as connection:
                copied = [(t, [dict(r._mapping) for r in connection.execute(t.select())]) for t in TABLES]
            _starter_rows[key] = [(table, found) for table, found in copied if found]
        return
    with engine.begin() as connection:
        for table, found in rows:
            connection.execute(table.insert(), found)
        if engine.dialect.name == "postgresql":  # ids inserted as they were: move each sequence past them
            for table, _ in rows:
                for column in table.primary_key.columns:
                    if isinstance(column.type, Integer):  # no sequence behind it: setval(NULL, …) is NULL
                        connection.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                            f" (SELECT max({column.name}) FROM {table.name}))"
                        )


@dataclass
class Service:
    client: TestClient
    settings: Settings
    keys: dict[Role, str] = field(default_factory=dict)
    reviewer: str = ""
    """A second admin key: another identity than every role's key, so it may approve their versions."""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def headers(self, role: Role = Role.ADMIN, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    def reviewer_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.reviewer}"}

    def work(self) -> int:
        """Run the outbox worker until nothing is due."""
        return Worker(self.runtime).run_until_idle()

    def send(self, body: dict[str, Any], *, key: str | None = None, role: Role = Role.ADMIN) -> Any:
        headers = self.headers(role)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post("/v1/messages", json=body, headers=headers)

    def message(self, message_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/messages/{message_id}", headers=self.headers())
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


ServiceFactory = Callable[..., Service]


@pytest.fixture
def service_factory(database_url: str, tmp_path: Path) -> Iterator[ServiceFactory]:
    """Build the service with settings overrides; starter templates loaded, one key per role."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Service:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "var",
            "database_url": database_url,
            "base_url": "http://ccm.test",
            "secret_key": "test-secret-" + "x" * 40,
            "templates_dir": PROJECT_ROOT / "templates",
            "run_worker": False,
            "retry_base_seconds": 0.5,  # one work() pass never reaches a retry; tests wait for it
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        client = TestClient(create_app(settings, background=False), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        service = Service(client=client, settings=settings)
        seed_starter_templates(service.runtime.engine, settings.templates_dir)
        with session_scope(service.runtime.engine) as session:
            for role in Role:
                _, raw = create_api_key(session, role=role, name=f"test {role}")
                service.keys[role] = raw
            _, service.reviewer = create_api_key(session, role=Role.ADMIN, name="test reviewer")
        return service

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    empty_database(database_url)


@pytest.fixture
def service(service_factory: ServiceFactory) -> Service:
    return service_factory()


@pytest.fixture
def customer(service: Service) -> dict[str, Any]:
    """An Italian customer with email and phone."""
    body = {
        "email": "giulia.rossi@example.com",
        "phone": "+393471234501",
        "locale": "it",
        "timezone": "Europe/Rome",
        "attributes": {"first_name": "Giulia", "last_name": "Rossi"},
    }
    response = service.client.put("/v1/customers/c-1", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


INVOICE_DATA: dict[str, Any] = {
    "invoice": {
        "number": "2026-001",
        "issue_date": "2026-11-01",
        "due_date": "2026-11-30",
        "currency": "EUR",
        "lines": [
            {"description": "Fibre 1 Gbit/s", "quantity": 1, "unit_price": 39.9},
            {"description": "Router rental", "quantity": 2, "unit_price": 4.5},
        ],
        "total": 48.9,
    }
}


INVOICE = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["email"]}
WELCOME = {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://example.com/go"}}


def publish_reviewed(
    service: Service, template: str, number: int, role: Role = Role.MARKETER, *, kind: str = "template"
) -> dict[str, Any]:
    """Put a version live as a team does, whatever its category: `role` submits it, the reviewer key
    approves it, `role` publishes it (a template's, or a `layout`'s or `partial`'s). Returns the version."""
    path = f"/v1/{kind}s/{template}/versions/{number}"
    for step, headers in (
        ("submit", service.headers(role)),
        ("approve", service.reviewer_headers()),
        ("publish", service.headers(role)),
    ):
        response = service.client.post(f"{path}/{step}", headers=headers)
        assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def send(service: Service, body: dict[str, Any], key: str) -> str:
    response = service.send(body, key=key)
    assert response.status_code == 202, response.text
    return str(response.json()["messages"][0]["id"])


@pytest.fixture
def impatient(service: Service) -> Iterator[Engine]:
    """A second engine whose statements give up after a second instead of queueing behind a lock: for
    showing that no lock is held while an author's template renders."""
    url = service.settings.database_url
    if url.startswith("sqlite"):
        engine = make_engine(url)
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 1000"))
    else:
        engine = create_engine(url, connect_args={"options": "-c lock_timeout=1s"})
    yield engine
    engine.dispose()
