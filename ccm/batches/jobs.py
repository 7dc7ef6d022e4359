"""The scheduler's part in batch runs started through the API: queue each running run from its checkpoint
(after a restart too), and complete the runs whose messages have all finished (the workers send them)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from sqlmodel import col, select

from ccm.archiving.vault import ArchiveVault
from ccm.batches.models import BatchRun, BatchStatus
from ccm.batches.pages import count_missing_pages
from ccm.batches.progress import finish_if_done
from ccm.batches.queueing import queue_all
from ccm.batches.uploads import remove_upload, uploads_dir
from ccm.database import read_only, session_scope
from ccm.scheduling import JobRuntime, every

logger = logging.getLogger(__name__)
JOB_NAME = "batch-runs"


class BatchJobRuntime(JobRuntime, Protocol):
    @property
    def archive(self) -> ArchiveVault: ...


def work_batches(runtime: BatchJobRuntime) -> int:
    """Queue every API-started run still reading its input, then finish the runs that are done; returns
    how many runs it touched. Runs of `ccm batch run` are left to that command (it resumes them)."""
    with session_scope(read_only(runtime.engine)) as session:
        running = session.exec(
            select(BatchRun.id).where(
                BatchRun.status == BatchStatus.RUNNING, col(BatchRun.created_by).is_not(None)
            )
        ).all()
        queued = session.exec(select(BatchRun.id).where(BatchRun.status == BatchStatus.QUEUED)).all()
    for run_pk in running:
        assert run_pk is not None
        queue_all(runtime.engine, run_pk, runtime.settings)
        logger.info("batch run queued", extra={"batch_id": run_pk})
    for run_pk in queued:
        assert run_pk is not None
        count_missing_pages(runtime.engine, runtime.archive, run_pk)
        if finish_if_done(runtime.engine, runtime.archive, run_pk):
            _forget_upload(runtime, run_pk)
    return len(running) + len(queued)


def _forget_upload(runtime: BatchJobRuntime, run_pk: int) -> None:
    """A completed run's uploaded copy holds customer data nobody needs any more: delete it."""
    with session_scope(read_only(runtime.engine)) as session:
        run = session.get(BatchRun, run_pk)
    if (
        run is not None
        and run.input_path
        and Path(run.input_path).parent == uploads_dir(runtime.settings.data_dir)
    ):
        remove_upload(Path(run.input_path))


def schedule(scheduler: object, runtime: BatchJobRuntime) -> None:
    """Add the batch job to an APScheduler scheduler; one process at a time runs it."""
    every(scheduler, runtime, JOB_NAME, work_batches, seconds=runtime.settings.batch_poll_seconds)
