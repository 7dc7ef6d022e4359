"""Faults a real deployment meets: a silent SMTP server, the archive store going away, PostgreSQL restarting.

Each time the message must stay queued (never lost, never sent unarchived) and go out once things recover.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from tests.ccm.communications.resilience.conftest import (
    WorkerProcesses,
    count_by_status,
    queue_emails,
    wait_until,
    worker_env,
)
from tests.ccm.conftest import INVOICE, Service, ServiceFactory
from tests.fixtures.s3 import make_s3_client
from tests.fixtures.smtp import SmtpTestServer, free_port


class SilentServer:
    """Accepts TCP connections on a port and never says a word: a hung SMTP server."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_server(("127.0.0.1", port))
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        for connection in self.accepted:
            connection.close()
        self.socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), which close() alone does not
        self.socket.close()
        self.thread.join(5)


def wait_due(service: Service, message_id: str, timeout: float = 10) -> None:
    """Sleep until the message's backoff has passed."""
    from sqlmodel import Session

    from ccm.communications.models import Message
    from ccm.database import utcnow

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(service.runtime.engine) as session:
            message = session.get(Message, message_id)
            assert message is not None
            if message.next_attempt_at <= utcnow():
                return
        time.sleep(0.02)


def test_a_silent_smtp_server_times_out_and_the_message_waits_for_recovery(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    port = smtp_server.port
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=0.5)
    smtp_server.stop()
    silent = SilentServer(port)
    try:
        message_id = service.send(INVOICE, key="silent").json()["messages"][0]["id"]
        started = time.monotonic()
        service.work()
        assert time.monotonic() - started < 5  # the timeout bounds the wait
        waiting = service.message(message_id)
        assert waiting["status"] == "queued"
        assert "timed out" in waiting["last_error"].lower() or "timeout" in waiting["last_error"].lower()
    finally:
        silent.close()
    smtp_server.start()
    wait_due(service, message_id)
    service.work()
    assert service.message(message_id)["status"] == "sent"
    assert len(smtp_server.wait_for(1)) == 1


def test_421_closing_is_retried_and_delivered(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    smtp_server.fail_next(code=421, message="4.3.2 shutting down", count=2, stage="DATA")
    message_id = service.send(INVOICE, key="421").json()["messages"][0]["id"]
    for _ in range(3):
        service.work()
        if service.message(message_id)["status"] == "sent":
            break
        wait_due(service, message_id)
    assert service.message(message_id)["status"] == "sent"
    assert len(smtp_server.messages) == 1


@pytest.fixture
def own_s3_server() -> Iterator[tuple[ThreadedMotoServer, int]]:
    """An S3 server this test may stop and start (the session one serves every other test)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield server, port
    server.stop()


def test_nothing_is_sent_unarchived_while_the_archive_is_down(
    service_factory: ServiceFactory,
    smtp_server: SmtpTestServer,
    customer: dict[str, Any],
    own_s3_server: tuple[ThreadedMotoServer, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, port = own_s3_server
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    make_s3_client(endpoint).create_bucket(Bucket="outage", ObjectLockEnabledForBucket=True)
    service = service_factory(
        email_provider="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        archive_url="s3://outage/a",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
    )
    server.stop()
    message_id = service.send(INVOICE, key="outage").json()["messages"][0]["id"]
    service.work()
    waiting = service.message(message_id)
    assert waiting["status"] == "queued"
    assert "archive unavailable, nothing sent" in waiting["last_error"]
    assert waiting["archive"] is None
    assert smtp_server.messages == []
    assert service.client.get("/health").status_code == 503

    restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    restarted.start()
    try:
        make_s3_client(endpoint).create_bucket(Bucket="outage", ObjectLockEnabledForBucket=True)
        wait_due(service, message_id)
        service.work()
        sent = service.message(message_id)
        assert sent["status"] == "sent"
        [received] = smtp_server.wait_for(1)
        assert hashlib.sha256(received.data).hexdigest() == sent["archive"]["sha256"]
    finally:
        restarted.stop()


@pytest.mark.slow
@pytest.mark.serial  # every other test's PostgreSQL connections end with the server
@pytest.mark.timeout(300)
def test_workers_ride_out_a_postgresql_restart(
    postgres_url: str, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    total = 1500
    ids = set(queue_emails(postgres_url, total))
    env = worker_env(
        postgres_url,
        tmp_path / "var",
        email_provider="smtp",
        smtp_host="127.0.0.1",
        smtp_port=str(smtp_server.port),
        lease_seconds="10",
        worker_batch_size="20",
    )
    workers = WorkerProcesses(env, tmp_path)
    try:
        workers.start(0)
        workers.start(1)
        assert wait_until(lambda: count_by_status(postgres_url).get("sent", 0) >= 200, 120)
        cluster = subprocess.run(
            ["ls", "/etc/postgresql"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True, timeout=60
        )
        assert wait_until(lambda: _sent(postgres_url) == total, 240), count_by_status(postgres_url)
        assert all(p.poll() is None for p in workers.processes.values())  # they survived, not restarted
    finally:
        workers.stop_all()
    from email import message_from_bytes

    delivered = {message_from_bytes(m.data)["X-CCM-Message-Id"] for m in smtp_server.messages}
    assert delivered == ids


def _sent(url: str) -> int:
    try:
        return count_by_status(url).get("sent", 0)
    except Exception:  # PostgreSQL is still coming back
        return -1
