"""The UTC day of a timestamp as `YYYY-MM-DD` text, in SQL, written for each backend so both agree.

SQLite keeps times as naive UTC text (`ccm.database.UTCDateTime`), so `date()` reads the day; PostgreSQL
keeps `timestamptz`, whose day depends on the session's time zone unless it is read at UTC first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class utc_day(FunctionElement[str]):
    """`utc_day(column)`: named like the SQL function it compiles to."""

    type = String()
    inherit_cache = True


@compiles(utc_day)
def _sqlite_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
