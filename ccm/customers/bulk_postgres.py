"""`bulk.write_chunk` on PostgreSQL: the chunk is `COPY`ed into a session-private staging table, then one
`UPDATE … FROM` and one `INSERT … SELECT` apply it.

The decisions are `bulk`'s general path's, in the same transaction: a row whose external id exists is
updated (its `created_at` kept), every other row is inserted with `created_at = updated_at`, in file order;
a concurrent writer creating one of the ids between the two statements makes the insert fail with the same
`IntegrityError` the general path raises. What changes is the cost: `COPY` sends a row for a fraction of the
client CPU an `executemany` of bound parameters takes, and no id lookup is sent. Each value is adapted by
the connection's own dumpers, the attributes wrapped in psycopg's `Json` as SQLAlchemy wraps them, so the
stored JSON text is the same.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Connection

CREATE = """CREATE TEMPORARY TABLE IF NOT EXISTS ccm_import_rows (n integer, external_id text, email text,
phone text, locale text, timezone text, attributes json, updated_at timestamptz) ON COMMIT DELETE ROWS"""
"""Session-private, and emptied at each commit: no customer data outlives its chunk on a pooled connection."""
EMPTY = "TRUNCATE ccm_import_rows"  # in place after the first time in a transaction: no new file per chunk
BY_INDEX = "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
"""For this transaction only: a chunk's ids are looked up in the external id index, one probe each. Left to
itself the planner hashes the whole customers table for every chunk while its statistics lag an import's
growth (and the index's random reads look dear to it), so each chunk cost grew with the table: ~20 ms
against ~1.5 ms per statement at 100,000 customers."""
COPY = """COPY ccm_import_rows (n, external_id, email, phone, locale, timezone, attributes, updated_at)
FROM STDIN"""
UPDATE = """UPDATE customers AS c SET email = s.email, phone = s.phone, locale = s.locale,
timezone = s.timezone, attributes = s.attributes, updated_at = s.updated_at
FROM ccm_import_rows AS s WHERE c.external_id = s.external_id"""
INSERT = """INSERT INTO customers
(external_id, email, phone, locale, timezone, attributes, updated_at, created_at)
SELECT s.external_id, s.email, s.phone, s.locale, s.timezone, s.attributes, s.updated_at, s.updated_at
FROM ccm_import_rows AS s
WHERE NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.external_id = s.external_id) ORDER BY s.n"""


def copy_chunk(connection: Connection, latest: dict[str, dict[str, Any]]) -> int:
    """Upsert one row per external id (already de-duplicated, last row winning); returns how many were new.

    Only the `COPY` goes to the driver itself; the statements go through SQLAlchemy, so a duplicate id
    raises its `IntegrityError`, which `importing` retries."""
    connection.exec_driver_sql(CREATE)
    connection.exec_driver_sql(EMPTY)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(COPY) as copy:
        for n, (external_id, values) in enumerate(latest.items()):
            copy.write_row(
                (
                    n,
                    external_id,
                    values["email"],
                    values["phone"],
                    values["locale"],
                    values["timezone"],
                    Json(values["attributes"]),
                    values["updated_at"],
                )
            )
    connection.exec_driver_sql(BY_INDEX)
    connection.exec_driver_sql(UPDATE)
    return int(connection.exec_driver_sql(INSERT).rowcount)
