"""CSV that a spreadsheet opens safely: a text cell that would be read as a formula is neutralised.

Excel, LibreOffice and Google Sheets evaluate a cell starting with `=`, `+`, `-` or `@` (and strip a
leading tab or carriage return first), so a campaign named `=HYPERLINK(...)` would run on the reader's
machine (OWASP "CSV Injection"). Such text gets a leading `'`, which spreadsheets show as text. Numbers are
written as numbers, `-5` included: only text, which a customer or marketer may have typed, is touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

Cell = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> str | int | float:
    """The value as written: numbers unchanged, None empty, formula-like text prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV document (CRLF line ends, as RFC 4180 has them), every cell through `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()
