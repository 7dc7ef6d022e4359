"""Email over SMTP: the archived MIME bytes handed to a relay, unchanged, on reused pooled connections.

With `pool_size=N` up to N workers send at once, each on its own connection taken from the pool and put back
after the message; a connection behaves as the single one always did (reused; reconnected only when it turns
out closed before DATA). Further workers wait up to `pool_wait` seconds for a free connection.

Replies are sorted as the outbox workers need them: 4xx and anything that leaves the outcome unknown or hints
at a configuration problem (refused connection, timeout, failed AUTH) keep the message for a retry; only a 5xx
about this message gives up on it.

Internationalised addresses: envelope domains go out in punycode (IDNA 2008), which every relay accepts. A
non-ASCII local part, or RFC 6532 UTF-8 headers in the payload, need the relay's SMTPUTF8 extension (RFC
6531); a relay that does not offer it never will for this message, so that is a permanent
`smtputf8_unsupported`.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import threading
from email.parser import BytesHeaderParser
from email.policy import compat32

from delivery.addresses import InvalidDomain, envelope_address, needs_smtputf8
from delivery.base import Channel, DeliveryResult, Outcome, OutgoingMessage, ProviderConfigurationError

_QUEUE_ID = re.compile(r"queued as\s+<?([^\s<>]+)>?", re.IGNORECASE)
_BARE_EOL = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # smtplib would silently cut an address at a line break
# 5xx replies that mean "this client may not send" rather than "this message cannot be delivered".
_CONFIGURATION_CODES = frozenset({530, 534, 535, 538})


class _NothingSent(Exception):
    """The session ended before DATA (disconnect or 421): nothing was accepted, so a retry is safe."""


class _Unsendable(Exception):
    """Refused before MAIL, with the detail for a permanent result; the session stays usable."""


class _Slot:
    """One pooled SMTP session, used by one worker at a time."""

    __slots__ = ("conn",)

    def __init__(self) -> None:
        self.conn: smtplib.SMTP | None = None


class SmtpProvider:
    """Hands email payloads to an SMTP relay (STARTTLS or implicit TLS, optional AUTH) on pooled sessions."""

    channel: str = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        pool_size: int = 1,
        pool_wait: float = 30.0,
        name: str = "smtp",
    ) -> None:
        if pool_size < 1:
            raise ProviderConfigurationError("SMTP pool_size must be at least 1")
        if starttls and use_ssl:
            raise ProviderConfigurationError("choose STARTTLS or implicit TLS (use_ssl), not both")
        if (username is None) != (password is None):
            raise ProviderConfigurationError("SMTP username and password go together")
        if not host or not 0 < port < 65536:
            raise ProviderConfigurationError(f"invalid SMTP address {host!r}:{port}")
        self.name = name
        self.host, self.port = host, port
        self._username, self._password = username, password
        self._starttls, self._use_ssl = starttls, use_ssl
        self._timeout = timeout
        self._local_hostname = local_hostname or socket.getfqdn()
        self._ssl_context = ssl_context or (ssl.create_default_context() if starttls or use_ssl else None)
        self.pool_size, self._pool_wait = pool_size, pool_wait
        self._free = threading.BoundedSemaphore(pool_size)  # one permit per connection the pool may hold
        self._idle_lock = threading.Lock()
        self._idle: list[_Slot] = []

    # public ------------------------------------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """One SMTP transaction; reconnects once when a reused connection turns out to be closed."""
        if message.channel != Channel.EMAIL:
            return self._result(Outcome.PERMANENT_ERROR, f"{self.name} sends email, not {message.channel}")
        if _CONTROL.search(message.sender + message.recipient):
            return self._result(Outcome.PERMANENT_ERROR, "sender or recipient contains control characters")
        if _BARE_EOL.search(message.payload):
            detail = (
                "payload has bare CR or LF; SMTP needs CRLF line endings to send the archived bytes as is"
            )
            return self._result(Outcome.PERMANENT_ERROR, detail)
        if not self._free.acquire(timeout=self._pool_wait):
            detail = f"all {self.pool_size} SMTP connections stayed busy for {self._pool_wait}s"
            return self._result(Outcome.TRANSIENT_ERROR, detail)
        slot = self._take_idle()
        try:
            return self._send_on(slot, message)
        finally:
            with self._idle_lock:
                self._idle.append(slot)
            self._free.release()

    def close(self) -> None:
        """QUIT every pooled connection (waiting for sends in progress; ignoring servers already gone)."""
        taken = [self._free.acquire(timeout=self._pool_wait) for _ in range(self.pool_size)]
        try:
            with self._idle_lock:
                slots, self._idle = self._idle, []
            for slot in slots:
                self._drop(slot, quit_=True)
        finally:
            for got in taken:
                if got:
                    self._free.release()

    # connection --------------------------------------------------------------------------------------------
    def _take_idle(self) -> _Slot:
        """The most recently used idle connection (likeliest still open), or a new empty slot."""
        with self._idle_lock:
            return self._idle.pop() if self._idle else _Slot()

    def _connection(self, slot: _Slot) -> smtplib.SMTP:
        if slot.conn is None:
            slot.conn = self._connect()
        return slot.conn

    def _connect(self) -> smtplib.SMTP:
        conn: smtplib.SMTP
        if self._use_ssl:
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self._local_hostname,
                timeout=self._timeout,
                context=self._ssl_context,
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, local_hostname=self._local_hostname, timeout=self._timeout
            )
        try:
            conn.ehlo_or_helo_if_needed()
            if self._starttls:
                conn.starttls(context=self._ssl_context)
                conn.ehlo()
            if self._username is not None and self._password is not None:
                conn.login(self._username, self._password)
        except BaseException:
            conn.close()
            raise
        return conn

    def _drop(self, slot: _Slot, *, quit_: bool = False) -> None:
        conn, slot.conn = slot.conn, None
        if conn is None:
            return
        if quit_:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.quit()
        conn.close()

    # sending -----------------------------------------------------------------------------------------------
    def _send_on(self, slot: _Slot, message: OutgoingMessage) -> DeliveryResult:
        reused = slot.conn is not None
        try:
            try:
                reply = self._transaction(self._connection(slot), message)
            except _NothingSent:
                self._drop(slot)
                if not reused:
                    raise
                reply = self._transaction(self._connection(slot), message)
        except _NothingSent as exc:
            self._drop(slot)
            return self._failure(exc.__cause__ or exc)
        except _Unsendable as exc:
            return self._result(Outcome.PERMANENT_ERROR, str(exc))
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            if _connection_unusable(exc):
                self._drop(slot)
            return self._failure(exc)
        return DeliveryResult(Outcome.ACCEPTED, self.name, _provider_message_id(reply, message.payload))

    def _transaction(self, conn: smtplib.SMTP, message: OutgoingMessage) -> str:
        """MAIL, RCPT, DATA; the final 250 reply text."""
        try:
            self._envelope(conn, message)
        except smtplib.SMTPServerDisconnected as exc:
            raise _NothingSent(str(exc)) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused) as exc:
            if _connection_unusable(exc):  # "421 timeout, closing": how Postfix ends an idle session
                raise _NothingSent(str(exc)) from exc
            raise
        code, reply = conn.data(message.payload)
        if code != 250:
            _reset(conn)
            raise smtplib.SMTPDataError(code, reply)
        return reply.decode("utf-8", "replace")

    def _envelope(self, conn: smtplib.SMTP, message: OutgoingMessage) -> None:
        sender, recipient = _envelope_address(message.sender), _envelope_address(message.recipient)
        options = _mail_options(conn, message.payload, sender, recipient)
        code, reply = conn.mail(sender, options)
        if code != 250:
            _reset(conn)
            raise smtplib.SMTPSenderRefused(code, reply, message.sender)
        code, reply = conn.rcpt(recipient)
        if code not in (250, 251):
            _reset(conn)
            raise smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)})

    # outcomes ----------------------------------------------------------------------------------------------
    def _failure(self, exc: BaseException) -> DeliveryResult:
        outcome, detail = _classify(exc)
        rejected = outcome is Outcome.PERMANENT_ERROR and _address_refused(exc)
        return DeliveryResult(outcome, self.name, None, detail, recipient_rejected=rejected)

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def _envelope_address(address: str) -> str:
    """The bare address for MAIL FROM / RCPT TO, an IDN domain in punycode (the form the DNS knows)."""
    try:
        return envelope_address(address)
    except InvalidDomain as exc:
        raise _Unsendable(f"invalid_domain: {exc}") from None


def _mail_options(conn: smtplib.SMTP, payload: bytes, sender: str, recipient: str) -> list[str]:
    """Declare 8-bit content and SMTPUTF8 when needed; a relay without SMTPUTF8 cannot take such a message."""
    options: list[str] = []
    if not payload.isascii() and conn.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if needs_smtputf8(payload, sender, recipient):
        if not conn.has_extn("smtputf8"):
            raise _Unsendable(
                "smtputf8_unsupported: the relay does not offer SMTPUTF8, which this message needs for its "
                "non-ASCII address"
            )
        options.append("SMTPUTF8")
    return options


def _connection_unusable(exc: BaseException) -> bool:
    """After a plain refusal the session goes on; after anything else (or a 421 goodbye) start afresh."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPConnectError):
        return exc.smtp_code == 421 or isinstance(
            exc, smtplib.SMTPAuthenticationError | smtplib.SMTPHeloError
        )
    return True


def _address_refused(exc: BaseException) -> bool:
    """RCPT refused with 550/551/553 or an RFC 3463 5.1.x status: the address is bad, not the message."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    code, text = next(iter(exc.recipients.values()))
    return code in (550, 551, 553) or text.lstrip().startswith(b"5.1.")


def _reset(conn: smtplib.SMTP) -> None:
    """Abort the transaction so the connection can carry the next message."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        conn.rset()


def _classify(exc: BaseException) -> tuple[Outcome, str]:
    """Map an smtplib failure to an outcome and a detail naming the SMTP code and text."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Outcome.TRANSIENT_ERROR, f"SMTP authentication failed, check the credentials: {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Outcome.TRANSIENT_ERROR, f"SMTP server lacks a required feature (configuration): {exc}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, f"recipient refused: {code} {text.decode('utf-8', 'replace')}")
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
        return Outcome.TRANSIENT_ERROR, f"SMTP server refused the session: {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(exc.smtp_code, f"sender refused: {_reply(exc)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, f"message refused: {_reply(exc)}")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Outcome.TRANSIENT_ERROR, f"TLS failure talking to the SMTP server: {exc}"
    if isinstance(exc, smtplib.SMTPException | OSError):
        return Outcome.TRANSIENT_ERROR, f"SMTP connection problem: {type(exc).__name__}: {exc}"
    return Outcome.PERMANENT_ERROR, f"message cannot be sent over SMTP: {exc}"


def _by_code(code: int, detail: str) -> tuple[Outcome, str]:
    if 500 <= code < 600 and code not in _CONFIGURATION_CODES:
        return Outcome.PERMANENT_ERROR, detail
    return Outcome.TRANSIENT_ERROR, detail


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}"


def _provider_message_id(reply: str, payload: bytes) -> str | None:
    """The relay's queue id when it tells us ("queued as X"), else the message's own Message-ID."""
    if match := _QUEUE_ID.search(reply):
        return match.group(1)
    headers = BytesHeaderParser(policy=compat32).parsebytes(payload)
    message_id = headers.get("Message-ID")
    return str(message_id).strip() if message_id else None
