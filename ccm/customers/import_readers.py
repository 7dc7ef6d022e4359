"""The rows of an import file, one at a time: CSV (a header names the columns) or JSONL (one `PUT` body
plus `external_id` per line). Nothing is held but the current row, so memory does not grow with the file."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ccm.customers.attribute_types import Declarations, Declared, from_text

Format = Literal["csv", "jsonl"]
FIELDS = ("external_id", "email", "phone", "locale", "timezone")
FORMATS: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl"}
SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class UsageError(Exception):
    """The file cannot be imported at all (missing, unknown format, no `external_id` column): exit 2."""


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its data as a customer item, or why it could not even be read."""

    line: int
    data: dict[str, Any] | None
    problem: str | None = None


def file_format(path: Path, named: str | None) -> Format:
    """The format asked for, or the one the file's extension names."""
    chosen = FORMATS.get(named or "") or SUFFIXES.get(path.suffix.lower())
    if chosen is not None:
        return chosen
    raise UsageError(f"unknown format for {path.name}: name it with --format csv or --format jsonl")


@contextmanager
def open_rows(path: Path, fmt: Format, declared: Declarations) -> Iterator[Iterator[SourceRow]]:
    """The file's rows; a CSV header is checked before the first row is read."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if fmt == "jsonl":
        with path.open("rb") as stream:
            yield _jsonl_rows(stream)
        return
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        yield _csv_rows(reader, _header(reader), declared)


def _jsonl_rows(stream: Any) -> Iterator[SourceRow]:
    for number, raw in enumerate(stream, start=1):
        if raw.strip():
            yield _jsonl_row(number, raw)


def _jsonl_row(number: int, raw: bytes) -> SourceRow:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        return SourceRow(number, None, f"not a JSON line: {error}")
    if not isinstance(data, dict):
        return SourceRow(number, None, "a line must be a JSON object")
    return SourceRow(number, data)


def _header(reader: Any) -> list[str]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise UsageError("the CSV file is empty: its first line must name the columns") from None
    if "external_id" not in header:
        raise UsageError("the CSV header has no external_id column")
    if len(set(header)) != len(header) or "" in header:
        raise UsageError("the CSV header names a column twice or leaves one unnamed")
    return header


def _csv_rows(reader: Any, header: list[str], declared: Declarations) -> Iterator[SourceRow]:
    columns = [(name, name in FIELDS, declared.get(name)) for name in header]  # each column's reading, once
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield SourceRow(line, None, f"unreadable CSV: {error}")
            continue
        if cells:
            yield _csv_row(line, columns, cells)


Column = tuple[str, bool, Declared | None]
"""A header name, whether it is a customer field (else an attribute), and the attribute's declaration."""


def _csv_row(line: int, columns: list[Column], cells: list[str]) -> SourceRow:
    if len(cells) != len(columns):
        return SourceRow(line, None, f"the row has {len(cells)} cells, the header {len(columns)}")
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for (name, field, declared), cell in zip(columns, cells, strict=True):
        if cell == "":
            continue  # an empty cell: the field or attribute is absent
        if field:
            data[name] = cell
        else:
            attributes[name] = from_text(declared, cell)
    data["attributes"] = attributes
    return SourceRow(line, data)
