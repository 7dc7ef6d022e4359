"""What each declared attribute type accepts: one definition for every write (PUT, batch, import).

A JSON value is checked as it is (`12` is a number, `"12"` is not); a CSV cell is text, so it is first read
as its declared type (`"12.5"` -> 12.5, `"true"` -> True) and then checked the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ccm.errors import Unprocessable


class AttributeType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    ENUM = "enum"


@dataclass(frozen=True)
class Declared:
    """One declared attribute as the checks need it."""

    name: str
    type: AttributeType
    values: tuple[str, ...] = ()


Declarations = Mapping[str, Declared]
TRUE_TEXT = frozenset({"true", "yes", "1"})
FALSE_TEXT = frozenset({"false", "no", "0"})


def is_iso_date(value: str) -> bool:
    """A calendar date written `YYYY-MM-DD` (how dates are stored, so they sort and compare as text)."""
    if len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def problem(declared: Declared, value: Any) -> str | None:
    """Why `value` is not of the declared type, or None when it is."""
    kind = declared.type
    if kind == AttributeType.NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"must be a number, not {value!r}"
    if kind == AttributeType.BOOLEAN:
        return None if isinstance(value, bool) else f"must be true or false, not {value!r}"
    if not isinstance(value, str):
        return f"must be a string, not {value!r}"
    if kind == AttributeType.DATE and not is_iso_date(value):
        return f"must be a date written YYYY-MM-DD, not {value!r}"
    if kind == AttributeType.ENUM and value not in declared.values:
        return f"must be one of {', '.join(declared.values)}, not {value!r}"
    return None


def check_attributes(declarations: Declarations, attributes: Mapping[str, Any]) -> None:
    """Refuse the first attribute whose value is not of its declared type (422 `attribute_invalid`)."""
    for name, value in attributes.items():
        declared = declarations.get(name)
        reason = None if declared is None else problem(declared, value)
        if reason is not None:
            raise Unprocessable(
                f"attributes.{name} {reason}", field=f"attributes.{name}", code="attribute_invalid"
            )


def from_text(declared: Declared | None, text: str) -> Any:
    """A CSV cell as its declared type; text that cannot be read so stays text, for `problem` to name."""
    if declared is None or declared.type not in (AttributeType.NUMBER, AttributeType.BOOLEAN):
        return text
    if declared.type == AttributeType.BOOLEAN:
        lowered = text.strip().lower()
        return True if lowered in TRUE_TEXT else False if lowered in FALSE_TEXT else text
    return _number(text)


def _number(text: str) -> Any:
    cleaned = text.strip()
    if "." not in cleaned:  # `int` refuses every text with a dot: skip its exception for a decimal
        try:
            return int(cleaned)
        except ValueError:
            pass
    try:
        number = float(cleaned)
    except ValueError:
        return text
    return number if math.isfinite(number) else text
