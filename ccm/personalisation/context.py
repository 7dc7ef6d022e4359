"""The render context: the customer record plus the request's data, snapshotted at send time."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ccm.customers.models import Customer

IDENTITY_FIELDS = ("external_id", "email", "phone", "locale", "timezone")


def customer_context(customer: Customer) -> dict[str, Any]:
    """Attributes first, then the identity fields, which attributes can never shadow."""
    context = dict(customer.attributes)
    context.update({name: getattr(customer, name) for name in IDENTITY_FIELDS})
    return context


def build_context(customer: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """`{"customer": {...}, **data}`; a `customer` object in `data` is merged over the attributes."""
    merged_customer = dict(customer)
    extra = data.get("customer")
    if isinstance(extra, dict):
        merged_customer.update({k: v for k, v in extra.items() if k not in IDENTITY_FIELDS})
    return {**data, "customer": merged_customer}


def context_digest(context: dict[str, Any]) -> str:
    canonical = json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


PREVIEW_CUSTOMER: dict[str, Any] = {
    "external_id": "preview",
    "email": "preview@example.com",
    "phone": "+393471234567",
    "locale": "en",
    "timezone": "Europe/Rome",
    "first_name": "Ada",
    "last_name": "Lovelace",
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`, object by object, so a preview can change one field of the sample data."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
