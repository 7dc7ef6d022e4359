"""Which fields of a data contract are money and dates, for engines without Jinja filters (Typst).

A schema marks them with standard and `x-ccm-` keywords, which JSON Schema validators ignore:
- `"format": "date"` (ISO `YYYY-MM-DD`) or `"format": "date-time"` (ISO 8601), with an optional
  `"x-ccm-date-style": "short" | "medium" | "long" | "full"` (default `long`, as the `date` filter's);
- `"x-ccm-money": {"currency": "/invoice/currency"}` (a JSON pointer into the data) or
  `{"currency": "EUR"}` (an ISO 4217 code).
The marks travel with the parts (`ccm.channels.marks`) and the renderer formats the copies
(`renderers.typst_inputs`) with the same code as the Jinja `money`, `date` and `datetime` filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ccm.channels.marks import needs_marks, with_marks
from ccm.errors import Unprocessable
from renderers.typst_inputs import ITEMS, STYLES

MONEY = "x-ccm-money"
DATE_STYLE = "x-ccm-date-style"
_CODE = re.compile(r"^[A-Z]{3}$")


def formatted_fields(schema: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every marked field, by its path from the data's root (`*` for every array item)."""
    return list(_marks(schema, ())) if schema else []


def with_contract_marks(parts: dict[str, Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts with their contract's marks beside them, when a part reads them (a Typst PDF)."""
    return with_marks(parts, formatted_fields(schema)) if needs_marks(parts) else parts


def _marks(node: Any, path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    if not isinstance(node, Mapping):
        return
    money = node.get(MONEY)
    if path and isinstance(money, Mapping) and isinstance(money.get("currency"), str):
        yield {"path": list(path), "kind": "money", "currency": money["currency"]}
    elif path and node.get("format") in ("date", "date-time"):
        kind = "date" if node["format"] == "date" else "datetime"
        yield {"path": list(path), "kind": kind, "style": str(node.get(DATE_STYLE) or "long")}
    properties = node.get("properties")
    for name, child in (properties if isinstance(properties, Mapping) else {}).items():
        yield from _marks(child, (*path, str(name)))
    yield from _marks(node.get("items"), (*path, ITEMS))


def check_marks(node: Any, where: str = "") -> None:
    """A misspelt mark would leave a field unformatted without a word: 422 `invalid_schema` naming it."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            check_marks(item, f"{where}/{index}")
        return
    if not isinstance(node, Mapping):
        return
    if MONEY in node:
        _check_money(node[MONEY], f"{where}/{MONEY}")
    if DATE_STYLE in node and node[DATE_STYLE] not in STYLES:
        raise _invalid(f"{DATE_STYLE} must be one of {', '.join(STYLES)}", f"{where}/{DATE_STYLE}")
    for key, value in node.items():
        if key not in (MONEY, DATE_STYLE):
            check_marks(value, f"{where}/{key}")


def _check_money(mark: Any, where: str) -> None:
    currency = mark.get("currency") if isinstance(mark, Mapping) else None
    if not isinstance(currency, str) or not (currency.startswith("/") or _CODE.match(currency)):
        raise _invalid(
            f'{MONEY} must be {{"currency": "/pointer/to/the/currency"}} or {{"currency": "EUR"}}', where
        )


def _invalid(problem: str, where: str) -> Unprocessable:
    return Unprocessable(f"schema: {problem} (at {where})", field="schema", code="invalid_schema")
