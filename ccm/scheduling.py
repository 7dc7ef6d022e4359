"""Scheduled jobs that act in one process at a time, however many processes run a scheduler.

On PostgreSQL a job first takes `pg_try_advisory_xact_lock(key)` in a transaction held open for the whole
run (released by its commit, or by the server if the process dies); a run that does not get the lock is
skipped. SQLite is single-host and serialises writers, so jobs there simply run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ccm.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class JobRuntime(Protocol):
    """What a scheduled job gets: the composition root's `Runtime` is one (jobs never import it)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def settings(self) -> Settings: ...


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key per job name."""
    digest = hashlib.sha256(f"ccm.scheduling:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def run_exclusively(engine: Engine, name: str, fn: Callable[[], T]) -> T | None:
    """`fn()` if no other process is running the job `name` right now; None when skipped."""
    if engine.dialect.name != "postgresql":
        return fn()
    with engine.connect() as connection, connection.begin():
        acquired = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)}
        ).scalar()
        if not acquired:
            logger.debug("job %s is running elsewhere; skipped", name)
            return None
        return fn()


def exclusive(engine: Engine, name: str, fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """A zero-argument job for APScheduler that runs `fn(*args)` under `run_exclusively`."""

    def job() -> Any:
        return run_exclusively(engine, name, lambda: fn(*args))

    job.__name__ = job.__qualname__ = name
    return job


def every(
    scheduler: object, runtime: JobRuntime, name: str, fn: Callable[..., Any], *, seconds: float
) -> None:
    """Add `fn(runtime)` to an APScheduler scheduler every `seconds`, under `exclusive` (one process at a
    time). APScheduler's defaults apply: one instance at a time, a backlog of missed runs coalesced into
    one."""
    add_job = getattr(scheduler, "add_job")  # noqa: B009 (keeps APScheduler's untyped API at arm's length)
    add_job(exclusive(runtime.engine, name, fn, runtime), "interval", seconds=seconds, id=name)
