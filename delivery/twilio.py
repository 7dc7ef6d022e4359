"""SMS through Twilio's Messages API, and the two halves of its status callbacks: signature and meaning.

Only HTTP and JSON: no Twilio SDK, one pooled `httpx.Client` shared by every send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx

from delivery.base import (
    Channel,
    DeliveryResult,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    ProviderEvent,
    ProviderEventType,
)
from delivery.sms_payload import parse_sms_payload

_STATUS_EVENTS = {
    "queued": ProviderEventType.QUEUED,
    "accepted": ProviderEventType.QUEUED,
    "sending": ProviderEventType.QUEUED,
    "sent": ProviderEventType.SENT,
    "delivered": ProviderEventType.DELIVERED,
    "undelivered": ProviderEventType.UNDELIVERED,
    "failed": ProviderEventType.FAILED,
}


class TwilioSmsProvider:
    """Posts each SMS to Twilio; 429/5xx/network trouble keep the message, other 4xx give up on it."""

    channel: str = Channel.SMS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        base_url: str = "https://api.twilio.com",
        status_callback_url: str | None = None,
        timeout: float = 10.0,
        name: str = "twilio",
    ) -> None:
        if not account_sid or not auth_token:
            raise ProviderConfigurationError("Twilio needs an account SID and an auth token")
        self.name = name
        self.account_sid = account_sid
        self.from_number = from_number
        self.status_callback_url = status_callback_url
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(account_sid, auth_token),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def send(self, message: OutgoingMessage) -> DeliveryResult:
        """One POST to the Messages resource; the SID Twilio returns becomes the provider message id."""
        if message.channel != Channel.SMS:
            return self._result(Outcome.PERMANENT_ERROR, f"{self.name} sends sms, not {message.channel}")
        try:
            form = self._form(message)
        except ValueError as exc:  # a payload the service could not have produced, or no sender
            return self._result(Outcome.PERMANENT_ERROR, str(exc))
        try:
            response = self._client.post(self._path, data=form)
        except httpx.TimeoutException as exc:
            detail = f"Twilio did not answer in time ({type(exc).__name__}); it may have accepted the message"
            return self._result(Outcome.TRANSIENT_ERROR, detail)
        except httpx.HTTPError as exc:
            return self._result(Outcome.TRANSIENT_ERROR, f"cannot reach Twilio: {type(exc).__name__}: {exc}")
        return self._outcome(response)

    def close(self) -> None:
        """Release the pooled HTTP connections."""
        self._client.close()

    def _form(self, message: OutgoingMessage) -> dict[str, str]:
        payload = parse_sms_payload(message.payload)
        form = {
            "To": payload.get("to") or message.recipient,
            "From": payload.get("from") or self.from_number,
            "Body": payload["body"],
        }
        if not form["From"]:
            raise ValueError("no sender number: the payload has none and the provider has no from_number")
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        return form

    def _outcome(self, response: httpx.Response) -> DeliveryResult:
        body = _json_object(response)
        if response.status_code in (200, 201):
            sid = body.get("sid")
            if isinstance(sid, str) and sid:
                return DeliveryResult(Outcome.ACCEPTED, self.name, sid)
            return self._result(Outcome.TRANSIENT_ERROR, f"HTTP {response.status_code} without a message sid")
        detail = _error_detail(response.status_code, body)
        # 401: wrong credentials are a configuration problem, so keep the message for after the fix.
        if response.status_code in (401, 429) or response.status_code >= 500:
            return self._result(Outcome.TRANSIENT_ERROR, detail)
        return self._result(Outcome.PERMANENT_ERROR, detail)

    def _result(self, outcome: Outcome, detail: str) -> DeliveryResult:
        return DeliveryResult(outcome, self.name, None, detail)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_detail(status: int, body: Mapping[str, Any]) -> str:
    """Twilio's own error code and message, which say what to fix (e.g. 21211 invalid 'To')."""
    code, message = body.get("code"), body.get("message")
    if code is None and message is None:
        return f"Twilio answered HTTP {status}"
    return f"Twilio error {code}: {message} (HTTP {status})"


def compute_twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the full URL, then each POST name+value sorted by name."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_twilio_signature(url: str, params: Mapping[str, str], signature: str, auth_token: str) -> bool:
    """True only when the request was signed with our auth token (constant-time comparison)."""
    expected = compute_twilio_signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def parse_status_callback(params: Mapping[str, str], *, provider: str = "twilio") -> ProviderEvent:
    """A Twilio status callback as a normalised event; ValueError for an unknown status or no MessageSid."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    if not sid:
        raise ValueError("Twilio status callback without MessageSid")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if status not in _STATUS_EVENTS:
        raise ValueError(f"unknown Twilio MessageStatus {status!r}")
    error_code = params.get("ErrorCode")
    detail = f"ErrorCode {error_code}" if error_code else ""
    if error_code and params.get("ErrorMessage"):
        detail += f": {params['ErrorMessage']}"
    return ProviderEvent(provider, sid, _STATUS_EVENTS[status], detail, dict(params))
