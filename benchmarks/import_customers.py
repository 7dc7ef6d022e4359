"""Customer import throughput and memory: `ccm customers import` against a bare `executemany` of the rows.

Generates a CSV of N customers (email, phone on every other row, locale, timezone, a free-form name and two
declared attributes: `score` a number, `vip` a boolean), imports it with `python -m ccm.cli customers import`
into a fresh database, and samples the child's peak RSS (VmHWM) while it runs. As the plain reference, the
same rows are inserted into another fresh database with one DB-API `executemany` per 1,000 rows, unvalidated.
The child's CPU seconds are printed too: on a machine shared with other work, rows per CPU-second of the
import process moves much less than rows/s (PostgreSQL's own CPU is not in it).

    .venv/bin/python benchmarks/import_customers.py                           # 1,000,000 rows, SQLite
    .venv/bin/python benchmarks/import_customers.py --rows 20000 --databases sqlite postgresql

PostgreSQL databases are created on 127.0.0.1:5432 (user postgres) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccm.customers.models import CustomerAttribute  # noqa: E402
from ccm.database import make_engine, session_scope  # noqa: E402
from ccm.migrate import upgrade  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADER = ["external_id", "email", "phone", "locale", "timezone", "first_name", "score", "vip"]
LOCALES = ["en", "it", "de_CH", "fr"]
ZONES = ["UTC", "Europe/Rome", "Europe/Zurich", "America/New_York"]
CHUNK = 1000


def generate(path: Path, rows: int) -> None:
    """N customer rows, written a row at a time."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for n in range(rows):
            phone = f"+39347{n % 10_000_000:07d}" if n % 2 else ""
            vip = "true" if n % 7 == 0 else "false"
            writer.writerow(
                [
                    f"c-{n:08d}",
                    f"person{n}@example.com",
                    phone,
                    LOCALES[n % 4],
                    ZONES[n % 4],
                    f"Name{n}",
                    f"{n % 1000}.5",
                    vip,
                ]
            )


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, migrated database with `score` and `vip` declared; its SQLAlchemy URL."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"
        _prepare(url)
        yield url
        return
    name = f"ccm_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        _prepare(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _prepare(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add(CustomerAttribute(name="score", type="number"))
        session.add(CustomerAttribute(name="vip", type="boolean"))
    engine.dispose()


def run_import(url: str, source: Path, folder: Path) -> tuple[float, float, int, str]:
    """Seconds, the child's CPU seconds, its peak RSS in kB (VmHWM, sampled until it exits), its summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_DATABASE_URL": url, "CCM_DATA_DIR": str(folder), "CCM_ENV": "development"})
    command = [sys.executable, "-m", "ccm.cli", "customers", "import", str(source)]
    started, cpu = time.perf_counter(), _children_cpu()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _vm_hwm(child.pid))
        time.sleep(0.1)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    out = child.stdout.read().decode() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"import exited {child.returncode}: {out}")
    return elapsed, cpu, peak, out.strip()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def bare_executemany(url: str, source: Path) -> float:
    """Seconds to insert the same rows with DB-API executemany, 1,000 at a time, one commit: no validation."""
    placeholder = "?" if url.startswith("sqlite") else "%s"
    columns = "external_id, email, phone, locale, timezone, attributes, created_at, updated_at"
    sql = f"INSERT INTO customers ({columns}) VALUES ({', '.join([placeholder] * 8)})"
    connection = _connect(url)
    started = time.perf_counter()
    cursor = connection.cursor()
    for chunk in _chunks(source):
        cursor.executemany(sql, chunk)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _connect(url: str) -> sqlite3.Connection | psycopg.Connection:
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def _chunks(source: Path) -> Iterator[list[tuple[object, ...]]]:
    now = datetime.now(UTC).isoformat(sep=" ")
    with source.open(newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        chunk: list[tuple[object, ...]] = []
        for external_id, email, phone, locale, zone, first, score, vip in reader:
            attributes = json.dumps({"first_name": first, "score": float(score), "vip": vip == "true"})
            chunk.append((external_id, email, phone or None, locale, zone, attributes, now, now))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccm-import-bench-") as temp:
        folder = Path(temp)
        source = folder / "customers.csv"
        generate(source, args.rows)
        print(f"{args.rows:,} rows, {source.stat().st_size / 1e6:.0f} MB of CSV")
        for kind in args.databases:
            with database(kind, folder) as url:
                seconds, cpu, peak, summary = run_import(url, source, folder)
            with database(kind, folder) as url:
                reference = bare_executemany(url, source)
            rate, bare = args.rows / seconds, args.rows / reference
            print(f"{kind}: {summary}")
            print(
                f"{kind}: ccm customers import {rate:,.0f} rows/s (peak RSS {peak / 1024:.0f} MB); "
                f"bare executemany {bare:,.0f} rows/s; import / executemany = {rate / bare:.3f}"
            )
            per_cpu = args.rows / cpu
            print(f"{kind}: the import process used {cpu:.1f} CPU s, {per_cpu:,.0f} rows per CPU-second")


if __name__ == "__main__":
    main()
