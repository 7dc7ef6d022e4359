"""What one email costs the database in the steady state: every statement the worker's threads send (claim,
hand-off record with the archive index and chain append, outcome), counted on the engine while a worker
with two threads sends a run of emails after a warm-up (render processes started, data keys created).
Transaction control (SQLite's BEGIN, savepoints) is counted apart, as transactions, so both backends are
measured alike."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.communications.service import create_message
from ccm.communications.worker import Worker
from ccm.customers.models import Customer
from ccm.database import session_scope, utcnow
from ccm.registry import service as registry
from ccm.registry import workflow
from ccm.registry.models import Template, TemplateVersion
from ccm.registry.schemas import TemplateCreate
from tests.ccm.communications.resilience.conftest import SMALL_EMAIL, count_by_status
from tests.ccm.conftest import ServiceFactory
from tests.fixtures.smtp import SmtpTestServer

WARM_UP = 10
EMAILS = 60
STATEMENTS_PER_EMAIL = 6
TRANSACTIONS_PER_EMAIL = 2
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


class StatementCounter:
    """Statements sent by the worker's own threads (its run loop, lanes and committer), not the test's."""

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine = engine
        self.prefix = prefix
        self.statements = 0
        self.commits = 0
        self.kinds: Counter[str] = Counter()
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.statements = self.commits = 0
            self.kinds.clear()

    def statement(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name.startswith(self.prefix):
            with self.lock:
                if not statement.lstrip().upper().startswith(CONTROL):
                    self.statements += 1
                    self.kinds[" ".join(statement.split())[:60]] += 1

    def commit(self, _connection: Any) -> None:
        if threading.current_thread().name.startswith(self.prefix):
            with self.lock:
                self.commits += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self.statement)
        event.listen(self.engine, "commit", self.commit)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self.statement)
        event.remove(self.engine, "commit", self.commit)


def set_up(engine: Engine) -> None:
    """The notice template (one email part) and five customers."""
    with session_scope(engine) as session:
        registry.create_template(session, TemplateCreate.model_validate(SMALL_EMAIL), author=SYSTEM_IDENTITY)
        workflow.publish(session, "notice", 1, SYSTEM_IDENTITY, approval_categories=())
        for number in range(5):
            attributes = {"first_name": f"P{number}"}
            session.add(
                Customer(external_id=f"s-{number}", email=f"s{number}@example.com", attributes=attributes)
            )


def queue(engine: Engine, count: int, start: int) -> None:
    """`count` emails to the five customers, queued as the send API queues them."""
    now = utcnow()
    with session_scope(engine) as session:
        template = session.exec(select(Template).where(col(Template.key) == "notice")).one()
        version = session.exec(
            select(TemplateVersion).where(col(TemplateVersion.template_id) == template.id)
        ).one()
        people = list(session.exec(select(Customer).where(col(Customer.external_id).startswith("s-"))))
        for n in range(start, start + count):
            person = people[n % len(people)]
            create_message(
                session,
                template=template,
                version=version,
                customer=person,
                channel="email",
                context={"customer": {"first_name": person.attributes["first_name"]}, "n": n},
                due=now,
                deadline=now + timedelta(hours=1),
            )


def wait_sent(url: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while count_by_status(url).get("sent", 0) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count_by_status(url).get("sent", 0) == count


def test_an_email_takes_at_most_six_statements_and_two_transactions(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer
) -> None:
    service = service_factory(
        email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port, worker_poll_interval=0.2
    )
    url, engine = service.settings.database_url, service.runtime.engine
    set_up(engine)
    queue(engine, WARM_UP, 0)
    worker = Worker(
        service.runtime, lanes=["transactional"]
    )  # an idle lane's polls cost per second, not per email
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,), kwargs={"concurrency": 2}, name="ccm-test-run")
    with StatementCounter(engine, "ccm") as counter:
        runner.start()
        try:
            wait_sent(url, WARM_UP)
            counter.reset()
            queue(engine, EMAILS, WARM_UP)
            wait_sent(url, WARM_UP + EMAILS)
        finally:
            stop.set()
            runner.join(30)
        statements, commits = counter.statements, counter.commits
    assert len(smtp_server.messages) == WARM_UP + EMAILS
    per_email, transactions = statements / EMAILS, commits / EMAILS
    summary = f"{per_email:.2f} statements and {transactions:.2f} transactions per email"
    print(f"\n{summary}: {counter.kinds.most_common(10)}")
    assert per_email <= STATEMENTS_PER_EMAIL, summary
    assert transactions <= TRANSACTIONS_PER_EMAIL, summary
