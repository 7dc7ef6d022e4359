"""The processes that work a run's messages: each builds its own worker (the composition root hands over a
factory) and takes the run's due messages through `Worker.process`, the outbox's kill-safe path (claim
with a lease, render in the bounded pool, archive, hand off or end `archived`, record the outcome).

A process dies with the command that started it (`PR_SET_PDEATHSIG` on Linux), so a killed run leaves
only leases behind, which lapse; the next start takes those messages up again.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.synchronize import Event

from sqlalchemy import case
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from ccm.batches.pages import record_pages
from ccm.communications.models import CLAIMABLE_STATUSES, Message, MessageStatus
from ccm.communications.worker import PREFETCH, Worker
from ccm.database import session_scope, utcnow
from ccm.leases import claim_due
from ccm.settings import Settings

logger = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1

WorkerFactory = Callable[[Settings], tuple[Worker, Callable[[], None]]]
"""Builds a worker and the function that closes what it holds (engine, archive, providers): the composition
root's, since this package may not import it. It must be a module-level function (it crosses to a process)."""


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (elsewhere: the parent's stop event ends it)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def drain(factory: WorkerFactory, settings: Settings, batch_id: int, stop: Event) -> None:
    """Process the run's due messages until `stop` is set and none is left to claim."""
    die_with_parent()
    worker, close = factory(settings)
    try:
        while True:
            claimed = claim_run(worker, batch_id, PREFETCH)
            for message_id in claimed:
                worker.process(message_id)
                count_pages(worker, batch_id, message_id)
            if not claimed:
                if stop.is_set():
                    return
                stop.wait(settings.worker_poll_interval)
    finally:
        close()


def claim_run(worker: Worker, batch_id: int, limit: int) -> list[str]:
    """Lease up to `limit` due messages of one run to `worker`, in input order (as `Worker.claim` leases
    any due message: same statuses, same lease, `queued` becomes `rendering`)."""
    now = utcnow()
    due = [
        col(Message.batch_id) == batch_id,
        col(Message.status).in_(CLAIMABLE_STATUSES),
        col(Message.next_attempt_at) <= now,
    ]
    rendering = case(
        (col(Message.status) == MessageStatus.QUEUED, MessageStatus.RENDERING.value),
        else_=col(Message.status),
    )
    with session_scope(worker.runtime.engine) as session:
        ids: list[str] = claim_due(
            session,
            Message,
            due,
            [col(Message.batch_line), col(Message.id)],
            limit,
            owner=worker.name,
            now=now,
            lease_until=now + timedelta(seconds=worker.settings.lease_seconds),
            values={"updated_at": now, "status": rendering},
        )
    return ids


def count_pages(worker: Worker, batch_id: int, message_id: str) -> None:
    """Keep the pages of a message this process archived (counted later if this fails or is killed)."""
    try:
        with session_scope(worker.runtime.engine) as session:
            record_pages(session, worker.runtime.archive, batch_id, message_id)
    except IntegrityError:
        pass  # counted already: the message was archived by an earlier attempt
    except Exception:
        logger.exception("counting pages failed", extra={"message_id": message_id})
