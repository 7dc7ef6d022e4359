"""Scheduled archive work: sign the chain heads, purge what is past retention (the scheduler only calls)."""

from __future__ import annotations

import logging
from typing import Protocol

from ccm.archiving import chain
from ccm.archiving.vault import ArchiveVault
from ccm.compliance.audit import AUDIT_CHAIN
from ccm.compliance.purge import PurgeResult, purge_expired
from ccm.database import session_scope
from ccm.scheduling import JobRuntime, every

logger = logging.getLogger(__name__)


class ArchiveJobRuntime(JobRuntime, Protocol):
    @property
    def archive(self) -> ArchiveVault: ...


def sign_checkpoints(runtime: ArchiveJobRuntime) -> None:
    """A signed checkpoint of the archive chain and the audit log, when either has grown since the last."""
    with session_scope(runtime.engine) as session:
        for name in (runtime.archive.url, AUDIT_CHAIN):
            chain.checkpoint(session, name, runtime.archive.signer)


def purge_archive(runtime: ArchiveJobRuntime) -> PurgeResult:
    result = purge_expired(runtime.engine, runtime.archive)
    if result.purged or result.refused or result.keys_destroyed:
        logger.info(
            "archive purge: %d purged, %d refused by the store, %d data keys destroyed",
            len(result.purged),
            len(result.refused),
            len(result.keys_destroyed),
        )
    return result


def schedule(scheduler: object, runtime: ArchiveJobRuntime) -> None:
    """Add the archive's jobs to an APScheduler scheduler."""
    settings = runtime.settings
    every(
        scheduler,
        runtime,
        "archive-checkpoint",
        sign_checkpoints,
        seconds=settings.archive_checkpoint_minutes * 60,
    )
    every(
        scheduler,
        runtime,
        "archive-purge",
        purge_archive,
        seconds=settings.archive_purge_interval_minutes * 60,
    )
