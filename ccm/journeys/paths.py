"""Reading a dotted path (`invoice.number`) out of an event's properties."""

from __future__ import annotations

import json
from typing import Any

MISSING = object()
"""What `value_at` returns for a path that is not there (None is a value a property may have)."""


def value_at(data: dict[str, Any], path: str) -> Any:
    """The value at `path` in nested objects, or MISSING."""
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def correlation_of(data: dict[str, Any], path: str | None) -> str | None:
    """The value at `path` as text a goal event's value is compared with; None when absent."""
    if path is None:
        return None
    value = value_at(data, path)
    if value is MISSING or value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:500]
