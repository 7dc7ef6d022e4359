"""Which saved segments one customer is in now: each segment's own WHERE clause with the customer's id
added, evaluated by the database (UNIONs of one SELECT per segment), so membership means exactly what a
campaign's fan-out or a preview would select."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import literal, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from ccm.customers.models import Customer, Segment
from ccm.customers.segment_rules import SegmentError, parse_segment
from ccm.customers.segment_sql import dialect_of, segment_clause
from ccm.customers.segments import list_segments

MAX_SELECTS = 50
"""SELECTs per UNION: well under SQLite's limit on compound SELECTs (500)."""
MAX_PARAMETERS = 10_000
"""Bound values per UNION (a rule's `in` list binds one per item): under SQLite's limit (32,766)."""


def segments_of(session: Session, customer_id: int, now: datetime) -> list[Segment]:
    """The saved segments whose rule selects the customer at `now`, by key."""
    saved = list_segments(session)
    selects = _selects(session, customer_id, saved, now)
    found: set[int] = set()
    for chunk in _chunks(session, selects):
        statement: Any = union_all(*chunk)
        found.update(int(index) for index in session.exec(statement).scalars())
    return [segment for index, segment in enumerate(saved) if index in found]


def _selects(session: Session, customer_id: int, saved: list[Segment], now: datetime) -> list[Select[Any]]:
    """Per segment, `SELECT <its index>` from the customer's row where the segment's rule holds."""
    dialect = dialect_of(session)
    selects: list[Select[Any]] = []
    for index, segment in enumerate(saved):
        try:
            clause = segment_clause(parse_segment(segment.rule), dialect, now)
        except SegmentError:  # a rule saved under older checks: it selects nobody rather than failing
            continue
        selects.append(select(literal(index)).where(col(Customer.id) == customer_id, clause))
    return selects


def _chunks(session: Session, selects: list[Select[Any]]) -> Iterator[list[Select[Any]]]:
    """The SELECTs in UNION-sized groups, within both limits (a segment over them alone runs alone)."""
    bind = session.get_bind()
    chunk: list[Select[Any]] = []
    parameters = 0
    for statement in selects:
        size = len(statement.compile(bind).params)
        if chunk and (len(chunk) == MAX_SELECTS or parameters + size > MAX_PARAMETERS):
            yield chunk
            chunk, parameters = [], 0
        chunk.append(statement)
        parameters += size
    if chunk:
        yield chunk
