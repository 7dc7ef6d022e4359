"""Write a chunk of already validated customer upserts in a few statements, for imports.

Rows arrive as `service.stored_values` made them (so a single `PUT` and an import validate and store a
record alike); this module only decides insert or update by external id and writes each group with one
executemany — or, on PostgreSQL, lets `bulk_postgres` decide the same with one `COPY` and two statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam
from sqlmodel import Session, col, select

from ccm.customers.bulk_postgres import copy_chunk
from ccm.customers.models import Customer

CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]


def write_chunk(session: Session, rows: list[tuple[str, dict[str, Any]]]) -> int:
    """Upsert (external id, stored values) rows; a repeated id's last row wins. Returns how many were new."""
    latest = dict(rows)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return copy_chunk(connection, latest)
    existing = _ids(session, list(latest))
    inserts = [
        {**values, "external_id": e, "created_at": values["updated_at"]} for e, values in latest.items()
    ]
    inserts = [row for row in inserts if row["external_id"] not in existing]
    updates = [{**values, "_id": existing[e]} for e, values in latest.items() if e in existing]
    if inserts:
        connection.execute(CUSTOMERS.insert(), inserts)
    if updates:
        connection.execute(CUSTOMERS.update().where(CUSTOMERS.c.id == bindparam("_id")), updates)
    return len(inserts)


def _ids(session: Session, external_ids: list[str]) -> dict[str, int]:
    statement = select(Customer.external_id, Customer.id).where(col(Customer.external_id).in_(external_ids))
    return {
        external_id: row_id for external_id, row_id in session.exec(statement).all() if row_id is not None
    }
