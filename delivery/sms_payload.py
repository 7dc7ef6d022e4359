"""The SMS payload every SMS provider reads: the service's archived UTF-8 JSON document."""

from __future__ import annotations

import json


def parse_sms_payload(payload: bytes) -> dict[str, str]:
    """The service's SMS payload: UTF-8 JSON with to, from, body strings; ValueError naming what is wrong."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"SMS payload is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("SMS payload must be a JSON object")
    fields = {key: data.get(key) or "" for key in ("to", "from", "body")}
    if not all(isinstance(value, str) for value in fields.values()):
        raise ValueError("SMS payload fields to, from and body must be strings")
    if not fields["body"]:
        raise ValueError("SMS payload has an empty body")
    return fields
