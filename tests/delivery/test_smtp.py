"""SmtpProvider against a real SMTP server on loopback: bytes unchanged, replies classified, reconnects."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest

from delivery import Channel, Outcome, OutgoingMessage, ProviderConfigurationError, SmtpProvider
from tests.fixtures.smtp import SmtpServerFactory, SmtpTestServer, free_port
from tests.fixtures.tls import LocalCertificate

# CRLF line endings throughout, lines starting with dots (SMTP transparency), 8-bit UTF-8 in the body.
PAYLOAD = (
    b"From: Shop <shop@example.com>\r\n"
    b"To: anna@example.org\r\n"
    b"Subject: Your invoice\r\n"
    b"Message-ID: <msg-1@ccm.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Ciao Anna, gr\xc3\xbc\xc3\x9fe \xe2\x82\xac\r\n"
    b".a line starting with a dot\r\n"
    b"..two dots\r\n"
    b".\r\n"
    b"end\r\n"
)


def email(
    message_id: str = "m1", payload: bytes = PAYLOAD, recipient: str = "anna@example.org"
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        channel=Channel.EMAIL,
        recipient=recipient,
        sender="bounces@example.com",
        payload=payload,
        content_type="message/rfc822",
    )


@pytest.fixture
def provider(smtp_server: SmtpTestServer) -> Iterator[SmtpProvider]:
    smtp = SmtpProvider(smtp_server.host, smtp_server.port, timeout=5, local_hostname="ccm.test")
    yield smtp
    smtp.close()


def test_accepted_message_arrives_byte_for_byte(provider: SmtpProvider, smtp_server: SmtpTestServer) -> None:
    result = provider.send(email())

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert result.provider == "smtp"
    assert result.provider_message_id == "TEST000001"
    (received,) = smtp_server.wait_for(1)
    assert received.mail_from == "bounces@example.com"
    assert received.rcpt_tos == ("anna@example.org",)
    assert hashlib.sha256(received.data).hexdigest() == hashlib.sha256(PAYLOAD).hexdigest()
    assert "BODY=8BITMIME" in received.mail_options


def test_message_id_header_stands_in_when_the_server_names_no_queue_id(
    smtp_server_factory: SmtpServerFactory,
) -> None:
    server = smtp_server_factory(reply_queue_id=False)
    smtp = SmtpProvider(server.host, server.port, timeout=5, local_hostname="ccm.test")
    try:
        result = smtp.send(email())
    finally:
        smtp.close()
    assert result.outcome is Outcome.ACCEPTED
    assert result.provider_message_id == "<msg-1@ccm.example>"


def test_one_connection_carries_many_messages(provider: SmtpProvider, smtp_server: SmtpTestServer) -> None:
    results = [provider.send(email(f"m{i}")) for i in range(5)]

    assert all(r.accepted for r in results)
    assert len(smtp_server.wait_for(5)) == 5
    assert smtp_server.connection_count == 1


def test_concurrent_sends_share_the_connection_safely(
    provider: SmtpProvider, smtp_server: SmtpTestServer
) -> None:
    outcomes: list[Outcome] = []

    def worker(n: int) -> None:
        for i in range(5):
            outcomes.append(provider.send(email(f"t{n}-{i}")).outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [Outcome.ACCEPTED] * 20
    assert all(m.data == PAYLOAD for m in smtp_server.wait_for(20))


@pytest.mark.parametrize(
    ("stage", "code", "expected"),
    [
        ("DATA", 451, Outcome.TRANSIENT_ERROR),
        ("DATA", 452, Outcome.TRANSIENT_ERROR),
        ("MAIL", 421, Outcome.TRANSIENT_ERROR),
        ("RCPT", 450, Outcome.TRANSIENT_ERROR),
        ("DATA", 554, Outcome.PERMANENT_ERROR),
        ("MAIL", 553, Outcome.PERMANENT_ERROR),
        ("RCPT", 550, Outcome.PERMANENT_ERROR),
        ("MAIL", 530, Outcome.TRANSIENT_ERROR),  # authentication required: configuration, keep the message
    ],
)
def test_replies_are_classified_and_the_next_message_still_goes(
    provider: SmtpProvider, smtp_server: SmtpTestServer, stage: str, code: int, expected: Outcome
) -> None:
    smtp_server.fail_next(code=code, message="scripted refusal", stage=stage)  # type: ignore[arg-type]

    failed = provider.send(email("refused"))
    after = provider.send(email("next"))

    assert failed.outcome is expected
    assert str(code) in failed.detail
    assert "scripted refusal" in failed.detail
    assert after.outcome is Outcome.ACCEPTED, after.detail
    assert len(smtp_server.wait_for(1)) == 1


def test_recipient_refused_always_is_permanent(provider: SmtpProvider, smtp_server: SmtpTestServer) -> None:
    smtp_server.reject_rcpt_always(550, "5.1.1 mailbox unavailable")

    results = [provider.send(email(f"m{i}")) for i in range(2)]

    assert [r.outcome for r in results] == [Outcome.PERMANENT_ERROR] * 2
    assert "550 5.1.1 mailbox unavailable" in results[0].detail
    assert smtp_server.messages == []


def test_transient_failure_twice_then_success(provider: SmtpProvider, smtp_server: SmtpTestServer) -> None:
    smtp_server.fail_next(code=451, message="try later", count=2)

    outcomes = [provider.send(email()).outcome for _ in range(3)]

    assert outcomes == [Outcome.TRANSIENT_ERROR, Outcome.TRANSIENT_ERROR, Outcome.ACCEPTED]


def test_server_down_is_transient_and_fast() -> None:
    smtp = SmtpProvider("127.0.0.1", free_port(), timeout=2, local_hostname="ccm.test")
    started = time.monotonic()
    try:
        result = smtp.send(email())
    finally:
        smtp.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "Connection" in result.detail
    assert time.monotonic() - started < 2


def test_reconnects_when_the_server_restarted_between_sends(
    provider: SmtpProvider, smtp_server: SmtpTestServer
) -> None:
    assert provider.send(email("before")).accepted
    smtp_server.restart()  # drops the provider's pooled connection

    result = provider.send(email("after"))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert len(smtp_server.wait_for(2)) == 2
    assert smtp_server.connection_count == 2


def test_reconnects_after_the_server_dropped_an_idle_connection(
    smtp_server_factory: SmtpServerFactory,
) -> None:
    server = smtp_server_factory(timeout=0.2)  # aiosmtpd closes sessions idle for 0.2 s
    smtp = SmtpProvider(server.host, server.port, timeout=5, local_hostname="ccm.test")
    try:
        assert smtp.send(email("first")).accepted
        time.sleep(0.5)
        result = smtp.send(email("after idle"))
    finally:
        smtp.close()

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert server.connection_count == 2


def test_421_goodbye_on_a_reused_connection_is_retried_on_a_new_one(
    provider: SmtpProvider, smtp_server: SmtpTestServer
) -> None:
    assert provider.send(email("first")).accepted
    smtp_server.fail_next(code=421, message="4.4.2 timeout exceeded, closing", stage="MAIL")

    result = provider.send(email("second"))

    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert len(smtp_server.wait_for(2)) == 2
    assert smtp_server.connection_count == 2


def test_server_gone_after_a_send_is_transient(provider: SmtpProvider, smtp_server: SmtpTestServer) -> None:
    assert provider.send(email()).accepted
    smtp_server.stop()

    assert provider.send(email()).outcome is Outcome.TRANSIENT_ERROR

    smtp_server.start()
    assert provider.send(email()).accepted


def test_starttls_and_auth(
    smtp_server_factory: SmtpServerFactory, local_certificate: LocalCertificate
) -> None:
    server = smtp_server_factory(
        tls_context=local_certificate.server_context(), require_starttls=True, users={"ccm": "s3cret"}
    )
    smtp = SmtpProvider(
        server.host,
        server.port,
        username="ccm",
        password="s3cret",
        starttls=True,
        ssl_context=local_certificate.client_context(),
        timeout=5,
        local_hostname="ccm.test",
    )
    try:
        result = smtp.send(email())
    finally:
        smtp.close()

    assert result.outcome is Outcome.ACCEPTED, result.detail
    (received,) = server.wait_for(1)
    assert received.authenticated_as == "ccm"
    assert received.data == PAYLOAD


def test_implicit_tls_with_auth(
    smtp_server_factory: SmtpServerFactory, local_certificate: LocalCertificate
) -> None:
    server = smtp_server_factory(implicit_tls_context=local_certificate.server_context(), users={"ccm": "pw"})
    smtp = SmtpProvider(
        server.host,
        server.port,
        username="ccm",
        password="pw",
        use_ssl=True,
        ssl_context=local_certificate.client_context(),
        timeout=5,
        local_hostname="ccm.test",
    )
    try:
        results = [smtp.send(email(f"m{i}")) for i in range(2)]
    finally:
        smtp.close()

    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 2
    assert [m.authenticated_as for m in server.wait_for(2)] == ["ccm", "ccm"]


def test_wrong_password_is_transient_with_a_clear_detail(
    smtp_server_factory: SmtpServerFactory, local_certificate: LocalCertificate
) -> None:
    server = smtp_server_factory(tls_context=local_certificate.server_context(), users={"ccm": "s3cret"})
    smtp = SmtpProvider(
        server.host,
        server.port,
        username="ccm",
        password="wrong",
        starttls=True,
        ssl_context=local_certificate.client_context(),
        timeout=5,
        local_hostname="ccm.test",
    )
    try:
        result = smtp.send(email())
    finally:
        smtp.close()

    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "authentication failed" in result.detail
    assert "535" in result.detail
    assert server.messages == []


def test_untrusted_certificate_is_transient(
    smtp_server_factory: SmtpServerFactory, local_certificate: LocalCertificate
) -> None:
    server = smtp_server_factory(tls_context=local_certificate.server_context())
    smtp = SmtpProvider(server.host, server.port, starttls=True, timeout=5, local_hostname="ccm.test")
    try:
        result = smtp.send(email())  # default trust store: the self-signed certificate is refused
    finally:
        smtp.close()
    assert result.outcome is Outcome.TRANSIENT_ERROR
    assert "TLS" in result.detail


def test_payload_with_bare_line_feeds_is_refused_unsent(
    provider: SmtpProvider, smtp_server: SmtpTestServer
) -> None:
    result = provider.send(email(payload=b"Subject: x\n\nbody\n"))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "CRLF" in result.detail
    assert smtp_server.connection_count == 0


def test_recipient_with_line_break_is_permanent(provider: SmtpProvider) -> None:
    result = provider.send(email(recipient="anna@example.org\r\nRCPT TO:<evil@example.net>"))

    assert result.outcome is Outcome.PERMANENT_ERROR


def test_other_channels_are_refused(provider: SmtpProvider) -> None:
    sms = OutgoingMessage("s1", Channel.SMS, "+391234", "", b"{}", "application/json")

    assert provider.send(sms).outcome is Outcome.PERMANENT_ERROR


def test_conflicting_settings_are_refused_at_start_up() -> None:
    with pytest.raises(ProviderConfigurationError):
        SmtpProvider("127.0.0.1", 25, starttls=True, use_ssl=True)
    with pytest.raises(ProviderConfigurationError):
        SmtpProvider("127.0.0.1", 25, username="only-user")
