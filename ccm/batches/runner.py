"""A run from the command line: this process queues the documents chunk by chunk while a pool of processes
(one per core by default) renders, archives and sends them; it returns once every message due has finished.

Messages waiting for a retry later (a provider's transient error) are left to `ccm worker`, as any other
message; the run completes when they finish (`ccm serve`'s scheduler notices).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ccm.batches.models import BatchRun, BatchStatus
from ccm.batches.pool import WorkerFactory, drain
from ccm.batches.progress import Progress, finish_if_done, in_flight, progress_of
from ccm.batches.queueing import queue_all
from ccm.communications.worker import Worker
from ccm.database import read_only, session_scope

logger = logging.getLogger(__name__)
ProgressHook = Callable[[Progress], None]


class PoolDied(RuntimeError):
    """Every process of the pool ended while messages were still due (see their log)."""


@dataclass
class Outcome:
    progress: Progress
    seconds: float
    finished_here: int
    """Documents refused and messages finished during this invocation (a resumed run counts only its part)."""

    @property
    def rate(self) -> float:
        return self.finished_here / self.seconds if self.seconds > 0 else 0.0


def run_batch(
    worker: Worker, factory: WorkerFactory, run_pk: int, *, processes: int, show: ProgressHook
) -> Outcome:
    """Queue and process the whole run; `worker` (this process's) reads progress and counts pages."""
    engine, settings = worker.runtime.engine, worker.settings
    started, before = time.monotonic(), _progress(worker, run_pk)
    if before.status != BatchStatus.RUNNING and not _due(worker, run_pk):
        finish_if_done(engine, worker.runtime.archive, run_pk)  # nothing left to do here: no pool
        after = _progress(worker, run_pk)
        show(after)
        return Outcome(after, time.monotonic() - started, 0)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited locks or threads
    stop = context.Event()
    pool = [
        context.Process(target=drain, args=(factory, settings, run_pk, stop), name=f"ccm-batch-{n}")
        for n in range(max(1, processes))
    ]
    for process in pool:
        process.start()
    reporter = _Reporter(worker, run_pk, show)
    reporter.start()
    try:
        queue_all(engine, run_pk, settings)
        _wait_for_messages(worker, run_pk, pool)
    finally:
        stop.set()
        for process in pool:
            process.join(timeout=settings.lease_seconds)
        reporter.stop()
    finish_if_done(engine, worker.runtime.archive, run_pk)
    after = _progress(worker, run_pk)
    show(after)
    return Outcome(after, time.monotonic() - started, after.finished - before.finished)


def _wait_for_messages(
    worker: Worker, run_pk: int, pool: Sequence[multiprocessing.process.BaseProcess]
) -> None:
    """Until no message of the run is due or being worked on (a lapsed lease counts as due)."""
    while _due(worker, run_pk):
        if not any(process.is_alive() for process in pool):
            raise PoolDied("every batch process ended while messages were still due")
        time.sleep(worker.settings.worker_poll_interval)


def _due(worker: Worker, run_pk: int) -> int:
    with session_scope(read_only(worker.runtime.engine)) as session:
        run = session.get(BatchRun, run_pk)
        assert run is not None
        return in_flight(session, run)


def _progress(worker: Worker, run_pk: int) -> Progress:
    with session_scope(read_only(worker.runtime.engine)) as session:
        run = session.get(BatchRun, run_pk)
        assert run is not None
        return progress_of(session, run)


class _Reporter:
    """Reads the run's progress every half second and shows it, from a thread of its own."""

    def __init__(self, worker: Worker, run_pk: int, show: ProgressHook) -> None:
        self.worker, self.run_pk, self.show = worker, run_pk, show
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="ccm-batch-progress", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _loop(self) -> None:
        while not self.stopped.wait(0.5):
            try:
                self.show(_progress(self.worker, self.run_pk))
            except Exception:  # a busy database: the next tick shows it
                logger.debug("reading the run's progress failed", exc_info=True)
