"""Email through Amazon SES v2: the archived MIME bytes sent as a raw message, unchanged.

`SendEmail` with `Content.Raw.Data`, so SES gets exactly the bytes the service archived; the SES MessageId is
the provider message id that SES event notifications (see `sns_notifications`) refer to.

Internationalised addresses: SES takes only ASCII addresses, an IDN domain in punycode, and does not offer
SMTPUTF8 (RFC 6531). A message with a non-ASCII local part or RFC 6532 UTF-8 headers can therefore never go
through SES: it fails permanently with `smtputf8_unsupported` before AWS is called, as over an SMTP relay
without the extension.
"""

from __future__ import annotations

from typing import Any

from delivery._aws import classify_aws_error, make_client
from delivery.addresses import InvalidDomain, envelope_address, needs_smtputf8
from delivery.base import Channel, DeliveryResult, Outcome, OutgoingMessage, ProviderConfigurationError


class _Unsendable(Exception):
    """Refused before AWS is called, with the detail for a permanent result: SES could never take it."""


class SesProvider:
    """Hands email payloads to SES v2 `SendEmail` as raw content (DKIM-sign before archiving, not here)."""

    channel: str = Channel.EMAIL

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        configuration_set: str | None = None,
        client: Any | None = None,
        timeout: float = 10.0,
        name: str = "ses",
    ) -> None:
        if client is None and not region:
            raise ProviderConfigurationError("SES needs a region (or a ready boto3 sesv2 client)")
        self.name = name
        self.configuration_set = configuration_set
        self._client = client or make_client(
            "sesv2",
            region=region or "",
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            timeout=timeout,
        )

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """One SendEmail call; SES's MessageId becomes the provider message id."""
        if message.channel != Channel.EMAIL:
            return self._result(Outcome.PERMANENT_ERROR, f"{self.name} sends email, not {message.channel}")
        try:
            sender, recipient = _ascii_envelope(message)
        except _Unsendable as exc:
            return self._result(Outcome.PERMANENT_ERROR, str(exc))
        request: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": message.payload}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._client.send_email(**request)
        except Exception as exc:  # classify_aws_error sorts botocore's exceptions; nothing escapes `send`
            return self._result(*classify_aws_error(exc, "SES"))
        message_id = response.get("MessageId")
        if not isinstance(message_id, str) or not message_id:
            return self._result(Outcome.TRANSIENT_ERROR, "SES answered without a MessageId")
        return DeliveryResult(Outcome.ACCEPTED, self.name, message_id)

    def close(self) -> None:
        """Release the client's pooled HTTP connections."""
        self._client.close()

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def _ascii_envelope(message: OutgoingMessage) -> tuple[str, str]:
    """Sender and recipient as SES takes them: bare ASCII addresses, an IDN domain in punycode."""
    try:
        sender, recipient = envelope_address(message.sender), envelope_address(message.recipient)
    except InvalidDomain as exc:
        raise _Unsendable(f"invalid_domain: {exc}") from None
    if needs_smtputf8(message.payload, sender, recipient):
        raise _Unsendable(
            "smtputf8_unsupported: SES does not offer SMTPUTF8, which this message needs for its non-ASCII "
            "address or headers"
        )
    return sender, recipient
