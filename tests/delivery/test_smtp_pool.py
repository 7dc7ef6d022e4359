"""SmtpProvider with pool_size > 1: concurrent workers on separate reused connections."""

from __future__ import annotations

import threading

import pytest

from delivery import Channel, Outcome, OutgoingMessage, ProviderConfigurationError, SmtpProvider
from tests.fixtures.smtp import SmtpTestServer

PAYLOAD = b"From: shop@example.com\r\nTo: anna@example.org\r\nSubject: pool\r\n\r\nhello\r\n"


def email(message_id: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id, Channel.EMAIL, "anna@example.org", "shop@example.com", PAYLOAD, "message/rfc822"
    )


def run_workers(smtp: SmtpProvider, workers: int, per_worker: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(per_worker):
            outcome = smtp.send(email(f"w{n}-{i}")).outcome
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_pool_reuses_at_most_pool_size_connections(smtp_server: SmtpTestServer) -> None:
    smtp = SmtpProvider(smtp_server.host, smtp_server.port, timeout=5, local_hostname="ccm.test", pool_size=3)
    try:
        outcomes = run_workers(smtp, workers=6, per_worker=10)
    finally:
        smtp.close()

    assert outcomes == [Outcome.ACCEPTED] * 60
    assert len(smtp_server.wait_for(60)) == 60
    assert 1 <= smtp_server.connection_count <= 3
    assert all(m.data == PAYLOAD for m in smtp_server.messages)


def test_pooled_connections_reconnect_after_a_server_restart(smtp_server: SmtpTestServer) -> None:
    smtp = SmtpProvider(smtp_server.host, smtp_server.port, timeout=5, local_hostname="ccm.test", pool_size=2)
    try:
        assert run_workers(smtp, workers=2, per_worker=3) == [Outcome.ACCEPTED] * 6
        smtp_server.restart()
        assert run_workers(smtp, workers=2, per_worker=3) == [Outcome.ACCEPTED] * 6
    finally:
        smtp.close()
    assert len(smtp_server.wait_for(12)) == 12


def test_close_quits_every_pooled_connection_and_sending_goes_on(smtp_server: SmtpTestServer) -> None:
    smtp = SmtpProvider(smtp_server.host, smtp_server.port, timeout=5, local_hostname="ccm.test", pool_size=2)
    run_workers(smtp, workers=2, per_worker=2)
    smtp.close()
    assert smtp.send(email("after-close")).accepted
    smtp.close()
    assert len(smtp_server.wait_for(5)) == 5


def test_pool_size_must_be_positive() -> None:
    with pytest.raises(ProviderConfigurationError):
        SmtpProvider("127.0.0.1", 25, pool_size=0)
