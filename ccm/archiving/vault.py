"""The archive as the service holds it: a write-once store, the customer keyring and the checkpoint signer.

Built once per process (by the composition root, `ccm.runtime`); at start-up an S3 bucket without Object
Lock is refused with a clear error rather than discovered when the first retention-less object has been
written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.engine import Engine

from archive import (
    ArchiveUnavailable,
    FilesystemStore,
    LockMode,
    S3Store,
    open_store,
)
from ccm.archiving.keyring import Keyring
from ccm.archiving.signing import CheckpointSigner
from ccm.dependencies import runtime_part
from ccm.settings import Settings

logger = logging.getLogger(__name__)
OBJECT_PREFIX = "messages/"


@dataclass
class ArchiveVault:
    store: FilesystemStore | S3Store
    keyring: Keyring
    signer: CheckpointSigner
    settings: Settings

    @property
    def url(self) -> str:
        """The store's URL, which also names its hash chain."""
        return self.store.url

    @property
    def lock_mode(self) -> LockMode:
        return LockMode(self.settings.archive_lock_mode)

    def check(self) -> None:
        """For /health: the store accepts writes and (S3) still enforces Object Lock."""
        self.store.check()
        if isinstance(self.store, S3Store):
            self.store.require_object_lock()

    def close(self) -> None:
        if isinstance(self.store, S3Store):
            self.store.close()


def open_vault(settings: Settings, engine: Engine) -> ArchiveVault:
    """The vault the settings describe; `archive.ObjectLockMissing` if an S3 bucket lacks Object Lock."""
    store = open_store(
        settings.archive_url, s3_endpoint_url=settings.s3_endpoint_url, s3_region=settings.s3_region
    )
    if isinstance(store, S3Store):
        try:
            store.require_object_lock()
        except ArchiveUnavailable as error:  # unreachable now: /health reports it, writes retry
            logger.warning("could not check Object Lock on the archive bucket: %s", error)
    return ArchiveVault(
        store=store,
        keyring=Keyring(engine, settings.archive_master_key),
        signer=CheckpointSigner(settings.archive_signing_key),
        settings=settings,
    )


VaultDep = Annotated[ArchiveVault, Depends(runtime_part("archive"))]
"""The process's archive vault, for route handlers."""
