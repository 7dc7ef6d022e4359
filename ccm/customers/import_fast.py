"""The common import row decided without building a pydantic model, with exactly the result `prepare` gives.

Most rows of an import file are plain: an ASCII external id, an everyday address, a phone, a locale and a
time zone as text, and a flat attributes object. For those, `CustomerBatchItem`'s own checks reduce to the
functions it calls (`normalise_phone`, `normalise_locale`, `normalise_timezone`, `check_json_document`), the
identifier pattern and `plain_emails` — so this module calls exactly those and stores the row through the same
`service.stored_columns`. A row that is anything else (an unknown or non-text field, non-ASCII text, an
address outside the plain case, any value one of those functions refuses) returns None and goes through
`CustomerBatchItem`, so every refusal, its field and its message are the model's own.
`tests/ccm/customers/test_import_fast.py` runs both paths over good and bad rows and compares them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ccm.customers.attribute_types import Declarations
from ccm.customers.plain_emails import plain_email
from ccm.customers.schemas import PHONE_LIMIT, normalise_locale, normalise_phone, normalise_timezone
from ccm.customers.service import stored_columns
from ccm.validation import IDENTIFIER_LIMIT, IDENTIFIER_PATTERN, check_json_document

FIELDS = frozenset({"external_id", "email", "phone", "locale", "timezone", "attributes"})
IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


class _NotPlain(Exception):
    """The row needs the model: its value is of a kind this module does not decide."""


def fast_prepared(declared: Declarations, data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """`prepare(declared, data)` for a plain row (the same values, or the same `ApiError`); else None."""
    if not FIELDS.issuperset(data):
        return None
    try:
        external_id = _identifier(data.get("external_id"))
        email = _email(data.get("email"))
        phone = _phone(data.get("phone"))
        locale = _text(data, "locale", "en", normalise_locale)
        timezone = _text(data, "timezone", "UTC", normalise_timezone)
        attributes = _attributes(data.get("attributes", {}))
    except (_NotPlain, ValueError):
        return None
    return external_id, stored_columns(declared, email, phone, locale, timezone, attributes)


def _identifier(value: Any) -> str:
    if type(value) is not str or len(value) > IDENTIFIER_LIMIT or IDENTIFIER.fullmatch(value) is None:
        raise _NotPlain
    return value


def _email(value: Any) -> str | None:
    if value is None:
        return None
    normalised = plain_email(value) if type(value) is str else None
    if normalised is None:
        raise _NotPlain
    return normalised


def _phone(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str or not value.isascii() or len(value) > PHONE_LIMIT:
        raise _NotPlain
    return normalise_phone(value)


def _text(data: dict[str, Any], name: str, default: str, normalise: Callable[[str], str]) -> str:
    """A field with a default: absent, it is the default unchecked (as pydantic leaves a default)."""
    if name not in data:
        return default
    value = data[name]
    if type(value) is not str or not value.isascii():
        raise _NotPlain
    return normalise(value)


def _attributes(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _NotPlain
    return dict(check_json_document(value))
