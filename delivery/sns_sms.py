"""SMS through Amazon SNS `Publish` to a phone number, from the SMS JSON payload the Twilio provider reads.

The payload (`{"to", "from", "body", "encoding", "segments", ...}`) is what the service archived; SNS gets its
`body` as the message, `to` (or the message's recipient) as the phone number, and `from` (or the configured
sender id) as `AWS.SNS.SMS.SenderID` where the destination country supports sender ids.
"""

from __future__ import annotations

from typing import Any, Literal

from delivery._aws import classify_aws_error, make_client
from delivery.base import Channel, DeliveryResult, Outcome, OutgoingMessage, ProviderConfigurationError
from delivery.sms_payload import parse_sms_payload

SmsType = Literal["Transactional", "Promotional"]


class SnsSmsProvider:
    """Publishes each SMS with SNS; throttling/5xx/network trouble keep the message, bad input gives up."""

    channel: str = Channel.SMS

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        sms_type: SmsType = "Transactional",
        sender_id: str | None = None,
        client: Any | None = None,
        timeout: float = 10.0,
        name: str = "sns-sms",
    ) -> None:
        if client is None and not region:
            raise ProviderConfigurationError("SNS needs a region (or a ready boto3 sns client)")
        if sms_type not in ("Transactional", "Promotional"):
            raise ProviderConfigurationError(
                f"SMS type must be Transactional or Promotional, not {sms_type!r}"
            )
        self.name = name
        self.sms_type: SmsType = sms_type
        self.sender_id = sender_id
        self._client = client or make_client(
            "sns",
            region=region or "",
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            timeout=timeout,
        )

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """One Publish call; SNS's MessageId becomes the provider message id."""
        if message.channel != Channel.SMS:
            return self._result(Outcome.PERMANENT_ERROR, f"{self.name} sends sms, not {message.channel}")
        try:
            fields = parse_sms_payload(message.payload)
        except ValueError as exc:
            return self._result(Outcome.PERMANENT_ERROR, str(exc))
        attributes = {"AWS.SNS.SMS.SMSType": _string(self.sms_type)}
        if sender_id := fields["from"] or self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = _string(sender_id)
        try:
            response = self._client.publish(
                PhoneNumber=fields["to"] or message.recipient,
                Message=fields["body"],
                MessageAttributes=attributes,
            )
        except Exception as exc:  # classify_aws_error sorts botocore's exceptions; nothing escapes `send`
            return self._result(*classify_aws_error(exc, "SNS"))
        message_id = response.get("MessageId")
        if not isinstance(message_id, str) or not message_id:
            return self._result(Outcome.TRANSIENT_ERROR, "SNS answered without a MessageId")
        return DeliveryResult(Outcome.ACCEPTED, self.name, message_id)

    def close(self) -> None:
        """Release the client's pooled HTTP connections."""
        self._client.close()

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
