"""Throw-away PostgreSQL databases for the workloads: created on 127.0.0.1:5432 (user postgres), migrated
when asked, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ccm.migrate import upgrade

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_database(*, migrate: bool = True) -> Iterator[str]:
    """A new database's SQLAlchemy URL (psycopg 3); ccm's schema in it unless `migrate` is False."""
    name = f"ccm_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def plain_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for psycopg itself."""
    return url.replace("postgresql+psycopg://", "postgresql://")
