"""One JSON value inside a JSON column, read the same way in SQL on SQLite and on PostgreSQL.

SQLite has `json_type`/`json_extract` (and `json_each` for arrays); PostgreSQL's `json` columns have `#>`,
`#>>`, `json_typeof` (and `json_array_elements`). `JsonValue` hides the difference behind one vocabulary of
kinds (`string`, `number`, `boolean`, `null`, `array`, `object`, or SQL NULL when the path is missing), so a
rule compiles to the same meaning on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, JSON, Numeric, Text, and_, case, func, literal, literal_column, null
from sqlalchemy.sql.elements import ColumnElement

SQLITE_KINDS = {
    "integer": "number",
    "real": "number",
    "text": "string",
    "true": "boolean",
    "false": "boolean",
}


@dataclass(frozen=True)
class JsonValue:
    """A JSON value in SQL: on SQLite its `json_type` and SQL value, on PostgreSQL the `json` node."""

    dialect: str
    node: ColumnElement[Any] = field(default_factory=null)  # PostgreSQL: a json expression
    sqlite_type: ColumnElement[Any] = field(default_factory=null)  # SQLite: json_type() or json_each.type
    sqlite_value: ColumnElement[Any] = field(
        default_factory=null
    )  # SQLite: json_extract() or json_each.value

    def kind(self) -> ColumnElement[Any]:
        """The value's kind in one vocabulary for both backends; NULL when the path is missing."""
        if self.dialect == "postgresql":
            return func.json_typeof(self.node)
        whens = [(self.sqlite_type == raw, literal(kind)) for raw, kind in SQLITE_KINDS.items()]
        return case(*whens, else_=self.sqlite_type)

    def text(self) -> ColumnElement[Any]:
        """The value as text (meaningful for strings); PostgreSQL compares it byte-wise like SQLite."""
        if self.dialect == "postgresql":
            return _as_text(self.node).collate("C")
        return self.sqlite_value

    def number(self) -> ColumnElement[Any]:
        """The value as a number, NULL unless it is one (PostgreSQL would fail casting text)."""
        if self.dialect == "postgresql":
            raw = _as_text(self.node)
            return case((self.kind() == "number", raw), else_=None).cast(Numeric)
        return self.sqlite_value

    def is_boolean(self, value: bool) -> ColumnElement[bool]:
        """True only for the JSON boolean `value` (never for 1 or "true")."""
        word = "true" if value else "false"
        if self.dialect == "postgresql":
            return and_(self.kind() == "boolean", _as_text(self.node) == word)
        return self.sqlite_type == word


def _as_text(node: ColumnElement[Any]) -> ColumnElement[Any]:
    """PostgreSQL: a json node as text (a string unquoted), `node #>> '{}'`."""
    return node.op("#>>", return_type=Text)(literal_column("'{}'"))


def at_path(column: Any, parts: Sequence[str], dialect: str) -> JsonValue:
    """The value at `parts` (keys of nested objects) inside a JSON column."""
    if dialect == "postgresql":
        return JsonValue(dialect, node=column.op("#>", return_type=JSON)(literal(list(parts), ARRAY(Text))))
    path = "$" + "".join(f'."{part}"' for part in parts)
    return JsonValue(
        dialect, sqlite_type=func.json_type(column, path), sqlite_value=func.json_extract(column, path)
    )


def elements(array: JsonValue, column: Any, parts: Sequence[str]) -> tuple[Any, JsonValue]:
    """A table of the array's elements (none unless it is an array) and one element as a `JsonValue`."""
    if array.dialect == "postgresql":
        only_arrays = case((array.kind() == "array", array.node), else_=None)
        table = func.json_array_elements(only_arrays).table_valued("value")
        return table, JsonValue(array.dialect, node=table.c.value)
    path = "$" + "".join(f'."{part}"' for part in parts)
    table = func.json_each(column, path).table_valued("value", "type")
    return table, JsonValue(array.dialect, sqlite_type=table.c.type, sqlite_value=table.c.value)
