"""A batch run's input, streamed: JSONL or CSV documents read from a byte offset, one at a time.

A run never holds its input in memory: each chunk reopens the file at the checkpoint's byte offset and reads
on. A line that cannot be a document (bad JSON, a cell that is not JSON where it must be, no customer id)
becomes a document with a `problem`, so the run records it as a failure with its line number and goes on.

JSONL: one object per line, `{"customer_id": "c-1", "data": {...}}`; blank lines are skipped.
CSV: a header row naming `customer_id` and data columns, dotted for nesting (`invoice.number` sets
`data["invoice"]["number"]`). Cells are strings, except a cell starting with `[` or `{`, which is JSON
(`invoice.lines` = `[{"description": "Fibre", "quantity": 1, "unit_price": "39.90"}]`): arrays and numbers
go in that way. An empty cell sets nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ccm.batches.models import BatchSource

CUSTOMER_COLUMN = "customer_id"
JSONL_KEYS = frozenset({"customer_id", "data"})
EXTENSIONS = {".jsonl": BatchSource.JSONL, ".ndjson": BatchSource.JSONL, ".csv": BatchSource.CSV}
BOM = b"\xef\xbb\xbf"


class InputError(ValueError):
    """The input as a whole cannot be read (wrong format, not UTF-8, a CSV without `customer_id`)."""


@dataclass(frozen=True)
class Position:
    """Where reading resumes: a byte offset and the number of lines before it."""

    offset: int = 0
    line: int = 0


@dataclass(frozen=True)
class Document:
    """One document to send: its line (a segment's: its place in the run), customer and data, or the
    `problem` (code, reason) that keeps it from being one."""

    line: int
    customer_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    problem: tuple[str, str] | None = None


@dataclass(frozen=True)
class Survey:
    sha256: str
    documents: int


def source_of(name: str) -> BatchSource:
    """The format by the file name's extension."""
    source = EXTENSIONS.get(Path(name).suffix.lower())
    if source is None:
        raise InputError(f"{name}: the input must be .jsonl (or .ndjson) or .csv")
    return source


def survey(path: Path, source: BatchSource) -> Survey:
    """One streaming pass: the content hash (the default run id's part) and how many documents there are;
    checks the text is UTF-8 and the CSV header usable, before anything is queued."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    documents = sum(1 for _ in read_documents(path, source, Position()))
    return Survey(digest.hexdigest(), documents)


def read_documents(path: Path, source: BatchSource, start: Position) -> Iterator[tuple[Document, Position]]:
    """Every document from `start` on, each with the position just after it (the next checkpoint)."""
    with path.open("rb") as handle:
        if source is BatchSource.CSV:
            yield from _csv_documents(handle, start)
        else:
            yield from _jsonl_documents(handle, start)


def _decoded(raw: bytes, offset: int, line: int) -> str:
    if offset == 0 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"line {line} is not UTF-8 text ({error.reason})") from None


def _jsonl_documents(handle: IO[bytes], start: Position) -> Iterator[tuple[Document, Position]]:
    handle.seek(start.offset)
    offset, line = start.offset, start.line
    for raw in handle:
        text = _decoded(raw, offset, line + 1)
        offset, line = offset + len(raw), line + 1
        if text.strip():
            yield jsonl_document(line, text), Position(offset, line)


def jsonl_document(line: int, text: str) -> Document:
    """A JSONL line as a document, or the reason it is none."""
    try:
        value = json.loads(text)
    except ValueError as error:
        return Document(line, None, problem=("invalid_json", f"not JSON: {error}"))
    if not isinstance(value, dict):
        return Document(line, None, problem=("invalid_document", "a line must be a JSON object"))
    unknown = sorted(set(value) - JSONL_KEYS)
    customer, data = value.get("customer_id"), value.get("data", {})
    if isinstance(customer, int) and not isinstance(customer, bool):
        customer = str(customer)
    if unknown:
        reason = f"unknown field(s) {', '.join(unknown)}: a line has customer_id and data"
        return Document(line, _text_or_none(customer), problem=("invalid_document", reason))
    if not isinstance(customer, str) or not customer:
        return Document(line, None, problem=("invalid_document", "customer_id must be a non-empty string"))
    if not isinstance(data, dict):
        return Document(line, customer, problem=("invalid_document", "data must be a JSON object"))
    return Document(line, customer, data)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _Lines:
    """Decoded lines of a binary file, counting the bytes and lines handed to the CSV reader, so the
    position after each record is known (the reader pulls lines only as far as the record needs)."""

    def __init__(self, handle: IO[bytes], start: Position) -> None:
        self.handle = handle
        self.offset, self.line = start.offset, start.line

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            text = _decoded(raw, self.offset, self.line + 1)
            self.offset, self.line = self.offset + len(raw), self.line + 1
            yield text


def _csv_documents(handle: IO[bytes], start: Position) -> Iterator[tuple[Document, Position]]:
    lines = _Lines(handle, Position())
    reader = csv.reader(lines)
    header = columns_of(next(reader, None))
    if start.offset > lines.offset:
        handle.seek(start.offset)
        lines.offset, lines.line = start.offset, start.line
    while True:
        first = lines.line + 1
        record = next(reader, None)
        if record is None:
            return
        if record:
            yield csv_document(first, header, record), Position(lines.offset, lines.line)


def columns_of(header: list[str] | None) -> list[str]:
    """The header's column names, checked: `customer_id` present, each named once, no empty dotted part."""
    if not header:
        raise InputError("the CSV is empty: its first row must name the columns (customer_id, ...)")
    columns = [name.strip() for name in header]
    if CUSTOMER_COLUMN not in columns:
        raise InputError(f"the CSV header has no {CUSTOMER_COLUMN} column (it has: {', '.join(columns)})")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise InputError(f"the CSV header names {', '.join(repeated)} more than once")
    bad = [name for name in columns if not all(name.split("."))]
    if bad:
        raise InputError(f"the CSV header has empty column names or dotted parts: {bad}")
    return columns


def csv_document(line: int, columns: list[str], cells: list[str]) -> Document:
    """A CSV record as a document: dotted columns nested, JSON cells parsed."""
    if len(cells) > len(columns):
        return Document(
            line, None, problem=("invalid_document", f"{len(cells)} cells for {len(columns)} columns")
        )
    row = dict(zip(columns, cells, strict=False))
    customer = row.get(CUSTOMER_COLUMN, "").strip() or None
    if customer is None:
        return Document(line, None, problem=("invalid_document", "customer_id is empty"))
    data: dict[str, Any] = {}
    for name, cell in row.items():
        if name == CUSTOMER_COLUMN or cell == "":
            continue
        try:
            _set_path(data, name.split("."), _cell_value(cell))
        except ValueError as error:
            return Document(line, customer, problem=("invalid_cell", f"column {name}: {error}"))
    return Document(line, customer, data)


def _cell_value(cell: str) -> Any:
    if cell.lstrip()[:1] not in ("[", "{"):
        return cell
    try:
        return json.loads(cell)
    except ValueError as error:
        raise ValueError(f"a cell starting with [ or {{ must be JSON ({error})") from None


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueError(f"{part} is both a value and a parent of other columns")
        node = child
    if path[-1] in node:
        raise ValueError(f"{path[-1]} is both a value and a parent of other columns")
    node[path[-1]] = value
