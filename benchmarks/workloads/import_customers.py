"""Workload 8, customer import rows/s: `ccm customers import FILE` (every row validated: email, phone,
locale, time zone, declared attribute types; upserted by external id) against PostgreSQL doing the same load
with no validation at all — `COPY` of the same file into a staging table plus one `INSERT … ON CONFLICT`
upsert into a table of the customers table's shape — in the same database. Goals: ratio ≥ 0.2, and the
import's peak RSS under 300 MB.

The file is `benchmarks/import_customers.py`'s: 1,000,000 rows (quick: 20,000, where the command's start-up
weighs most). ccm's rate is over the whole command, start-up included.

    .venv/bin/python -m benchmarks.workloads.import_customers [--quick]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import psycopg

from benchmarks.import_customers import HEADER, _prepare, generate, run_import
from benchmarks.workloads.postgres import fresh_database, plain_url
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main

GOAL = 0.2
RSS_LIMIT_MB = 300

STAGING = f"CREATE UNLOGGED TABLE staging ({', '.join(f'{name} text' for name in HEADER)})"
TARGET = "CREATE TABLE customers_copy (LIKE customers INCLUDING ALL)"
UPSERT = """
INSERT INTO customers_copy (external_id, email, phone, locale, timezone, attributes, created_at, updated_at)
SELECT external_id, email, NULLIF(phone, ''), locale, timezone,
       json_build_object('first_name', first_name, 'score', score::float8, 'vip', vip = 'true'), now(), now()
FROM staging
ON CONFLICT (external_id) DO UPDATE SET email = excluded.email, phone = excluded.phone,
    locale = excluded.locale, timezone = excluded.timezone, attributes = excluded.attributes,
    updated_at = excluded.updated_at
"""


def measure(quick: bool) -> list[Result]:
    """ccm's import first, then the plain load into a sibling table, on one fresh database."""
    rows = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="ccm-bench-import-") as temp, fresh_database() as url:
        folder = Path(temp)
        source = folder / "customers.csv"
        generate(source, rows)
        _prepare(url)
        seconds, cpu, peak_kb, summary = run_import(url, source, folder)
        if f"{rows:,}" not in summary and str(rows) not in summary:
            raise RuntimeError(f"the import did not take every row: {summary}")
        reference = copy_and_upsert(url, source)
    peak_mb = peak_kb / 1024
    notes = (
        f"{rows:,} rows, {rows / cpu:,.0f} per CPU-second of the import; peak RSS {peak_mb:.0f} MB "
        f"({'under' if peak_mb < RSS_LIMIT_MB else 'OVER'} {RSS_LIMIT_MB} MB); {summary.splitlines()[-1]}"
    )
    return [
        Result("8 import", rows / seconds, rows / reference, "rows/s", "COPY+upsert", GOAL, notes),
    ]


def copy_and_upsert(url: str, source: Path) -> float:
    """Seconds to COPY the file into a staging table and upsert it into a customers-shaped table."""
    with psycopg.connect(plain_url(url)) as connection:
        connection.execute(STAGING)
        connection.execute(TARGET)
        connection.commit()
        started = time.perf_counter()
        with source.open("rb") as stream, connection.cursor() as cursor:
            with cursor.copy("COPY staging FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while chunk := stream.read(1 << 20):
                    copy.write(chunk)
            cursor.execute(UPSERT)
        connection.commit()
        return time.perf_counter() - started


if __name__ == "__main__":
    main(measure)
