"""`ccm customers import` and the upload page: stream a CSV or JSONL file into customer upserts.

Rows are read one at a time, validated by the same definitions a `PUT` uses (`CustomerBatchItem` and
`service.stored_values`), and written `CHUNK` at a time, each chunk in one transaction (`bulk.write_chunk`).
Rejected rows go to `<input>.report.csv`. All-or-nothing runs the whole file in one transaction that is rolled
back if any row is rejected (and stops writing at the first rejection, while still reporting every one).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ccm.customers.attribute_types import Declarations
from ccm.customers.attributes import declarations
from ccm.customers.bulk import write_chunk
from ccm.customers.import_fast import fast_prepared
from ccm.customers.import_readers import Format, SourceRow, file_format, open_rows
from ccm.customers.schemas import CustomerBatchItem
from ccm.customers.service import stored_values
from ccm.errors import ApiError, validation_failure

CHUNK = 1000
REPORT_COLUMNS = ("line", "external_id", "field", "reason")
Progress = Callable[[int], None]
Prepared = tuple[str, dict[str, Any]]


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    created: int = 0
    rejected: int = 0
    report: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 when every row was imported, 1 when some were rejected (usage errors exit 2 before this)."""
        return 1 if self.rejected else 0


@dataclass(frozen=True)
class ImportOptions:
    fmt: str | None = None
    all_or_nothing: bool = False
    chunk: int = CHUNK
    progress: Progress | None = None


def report_path(path: Path) -> Path:
    """Where the rejected rows of `path` are listed: beside it."""
    return path.with_name(path.name + ".report.csv")


def import_file(engine: Engine, path: Path, options: ImportOptions | None = None) -> ImportResult:
    """Import every row of the file; raises `UsageError` before writing anything if it cannot be read."""
    options = options or ImportOptions()
    fmt: Format = file_format(path, options.fmt)
    with Session(engine) as session:
        declared = declarations(session)
    result = ImportResult(report=report_path(path))
    with open_rows(path, fmt, declared) as rows, _report(result) as report:
        run = _AllOrNothing if options.all_or_nothing else _Chunked
        run(engine, declared, result, report, options).consume(rows)
    return result


@contextmanager
def _report(result: ImportResult) -> Iterator[Any]:
    assert result.report is not None
    with result.report.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(REPORT_COLUMNS)
        yield writer


def prepare(declared: Declarations, data: dict[str, Any]) -> Prepared:
    """A row as (external id, stored values), or `ApiError` naming its bad field as a `PUT` would; a plain
    row is decided by `import_fast` (the same result, without building a model)."""
    fast = fast_prepared(declared, data)
    return fast if fast is not None else prepared_by_model(declared, data)


def prepared_by_model(declared: Declarations, data: dict[str, Any]) -> Prepared:
    """`prepare` through `CustomerBatchItem` itself: for a row that is not plain, and as the fast path's
    yardstick in its tests."""
    try:
        item = CustomerBatchItem.model_validate(data)
    except ValidationError as error:
        raise validation_failure(error.errors()) from None
    return item.external_id, stored_values(declared, item)


class _Chunked:
    """Commit every `chunk` rows: a rejected row costs only itself."""

    def __init__(
        self,
        engine: Engine,
        declared: Declarations,
        result: ImportResult,
        report: Any,
        options: ImportOptions,
    ) -> None:
        self.engine, self.declared, self.result, self.report = engine, declared, result, report
        self.options = options
        self.pending: list[Prepared] = []

    def consume(self, rows: Iterator[SourceRow]) -> None:
        for row in rows:
            self.result.rows += 1
            prepared = self._prepared(row)
            if prepared is not None:
                self.pending.append(prepared)
            if len(self.pending) >= self.options.chunk:
                self.flush()
        self.flush()
        self.finish()

    def _prepared(self, row: SourceRow) -> Prepared | None:
        if row.data is None:
            self._reject(row.line, "", None, row.problem or "unreadable")
            return None
        try:
            return prepare(self.declared, row.data)
        except ApiError as error:
            self._reject(row.line, _echoed(row.data), error.field, error.message)
            return None

    def _reject(self, line: int, external_id: str, field: str | None, reason: str) -> None:
        self.result.rejected += 1
        self.report.writerow((line, external_id, field or "", reason))

    def flush(self) -> None:
        if self.pending:
            self.result.created += self.write(self.pending)
            self.result.imported += len(self.pending)
            self.pending = []
        if self.options.progress is not None:
            self.options.progress(self.result.rows)

    def write(self, rows: list[Prepared]) -> int:
        """One transaction per chunk; retried once if a concurrent writer created one of its ids first."""
        for attempt in (1, 2):
            try:
                with Session(self.engine) as session, session.begin():
                    return write_chunk(session, rows)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def finish(self) -> None:
        """Nothing left to do: each chunk committed on its own."""


class _AllOrNothing(_Chunked):
    """One transaction for the whole file, rolled back if any row is rejected."""

    def consume(self, rows: Iterator[SourceRow]) -> None:
        with Session(self.engine) as session:
            self.session = session
            super().consume(rows)

    def write(self, rows: list[Prepared]) -> int:
        return 0 if self.result.rejected else write_chunk(self.session, rows)

    def finish(self) -> None:
        if self.result.rejected:
            self.session.rollback()
            self.result.imported = self.result.created = 0
        else:
            self.session.commit()


def _echoed(data: dict[str, Any] | None) -> str:
    external_id = (data or {}).get("external_id")
    return external_id.encode("utf-8", "replace").decode() if isinstance(external_id, str) else ""
