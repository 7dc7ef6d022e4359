"""A version's content, as opposed to its bookkeeping: what a rollback copies and a diff compares.

Content is every column but the few below, so content added to versions later (locales, a data schema,
layout pins) is copied and compared without a change here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import inspect

from ccm.registry.models import TemplateVersion

BOOKKEEPING = frozenset({"id", "template_id", "number", "status", "created_by", "created_at", "published_at"})
DERIVED = frozenset({"checksum", "library"})
"""Computed from the content (the library holds the sources the pins name), so copied with it but never
compared on its own: a diff shows the pins."""
API_NAMES = {"data_schema": "schema"}
"""Columns the API calls otherwise; diffs use the API's name."""


def content_of(version: TemplateVersion) -> dict[str, Any]:
    """A deep copy of the version's content columns, by column name."""
    return {
        column.key: copy.deepcopy(getattr(version, column.key))
        for column in inspect(TemplateVersion).column_attrs
        if column.key not in BOOKKEEPING
    }


def texts_of(version: TemplateVersion) -> dict[tuple[str, str | None], str]:
    """Every piece of content as text, by (part field or column, locale): `("sms.text", None)`,
    `("email.subject", "it")`, `("sample_data", None)`, `("schema", None)`. Part fields have a dot in
    their name, other content never."""
    content = {k: v for k, v in content_of(version).items() if k not in DERIVED}
    variants: list[tuple[str | None, Any]] = [(None, content.pop("parts"))]
    variants += sorted((content.pop("locales", None) or {}).items())
    texts: dict[tuple[str, str | None], str] = {}
    for locale, parts in variants:
        for channel, fields in parts.items():
            for field, value in fields.items():
                texts[(f"{channel}.{field}", locale)] = as_text(value)
    for name, value in content.items():
        texts[(API_NAMES.get(name, name), None)] = as_text(value)
    return texts


def as_text(value: Any) -> str:
    """Sources as they are; other values (flags, sample data, schemas) as indented JSON, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
