"""Where a run stands, read from the database alone (so any process can report it): documents read and
refused, messages queued, finished and failed, pages; the failures with their lines and reasons; and the
end of a run once every message it queued has finished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, literal, null, union_all
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from ccm.archiving.vault import ArchiveVault
from ccm.batches.models import BatchFailure, BatchPages, BatchRun, BatchStatus
from ccm.batches.pages import count_missing_pages
from ccm.communications.models import TERMINAL_STATUSES, Message, MessageStatus
from ccm.customers.models import Customer
from ccm.database import read_only, session_scope, utcnow

FINISHED_WELL = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.ARCHIVED})
FAILED = (MessageStatus.FAILED, MessageStatus.BOUNCED)


@dataclass(frozen=True)
class Progress:
    """A run's counters: `total`, `considered` and `refused` count documents (input lines or customers);
    `queued`, `done`, `failed_messages` and `pending` count messages (one per document and channel)."""

    run_id: str
    status: str
    total: int | None
    considered: int
    refused: int
    queued: int
    done: int
    failed_messages: int
    pending: int
    pages: int

    @property
    def failed(self) -> int:
        """Documents refused plus messages that failed: every entry of the failures list."""
        return self.refused + self.failed_messages

    @property
    def finished(self) -> int:
        """Documents refused plus messages finished either way, for a progress bar over `total`."""
        return self.refused + self.done + self.failed_messages


def progress_of(session: Session, run: BatchRun) -> Progress:
    counts: dict[str, int] = dict(
        session.exec(
            select(Message.status, func.count())
            .where(Message.batch_id == run.id)
            .group_by(col(Message.status))
        ).all()
    )
    pages = session.exec(
        select(func.coalesce(func.sum(BatchPages.pages), 0)).where(BatchPages.batch_id == run.id)
    ).one()
    done = sum(n for status, n in counts.items() if status in FINISHED_WELL)
    failed = sum(n for status, n in counts.items() if status in FAILED)
    return Progress(
        run_id=run.run_id,
        status=str(run.status),
        total=run.total,
        considered=run.considered,
        refused=run.refused,
        queued=run.queued,
        done=done,
        failed_messages=failed,
        pending=run.queued - done - failed,
        pages=int(pages),
    )


def failures_of(
    session: Session, run: BatchRun, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Refused documents and failed messages, by line: line, customer_id, code, reason, message_id."""
    refused: Select[Any] = core_select(  # type: ignore[assignment]
        col(BatchFailure.line).label("line"),
        col(BatchFailure.customer_id).label("customer_id"),
        col(BatchFailure.code).label("code"),
        col(BatchFailure.reason).label("reason"),
        cast(null(), String(36)).label("message_id"),
    ).where(col(BatchFailure.batch_id) == run.id)
    failed: Select[Any] = (
        core_select(  # type: ignore[assignment]
            col(Message.batch_line).label("line"),
            col(Customer.external_id).label("customer_id"),
            col(Message.status).label("code"),
            func.coalesce(col(Message.last_error), literal("")).label("reason"),
            col(Message.id).label("message_id"),
        )
        .join(Customer, col(Customer.id) == col(Message.customer_id))
        .where(col(Message.batch_id) == run.id, col(Message.status).in_(FAILED))
    )
    both = union_all(refused, failed).subquery()
    ordered = core_select(both).order_by(both.c.line, both.c.message_id).limit(limit).offset(offset)
    return [dict(row) for row in session.connection().execute(ordered).mappings()]


def in_flight(session: Session, run: BatchRun) -> int:
    """Messages of the run not finished and due now (being processed, or claimable): a run's own processes
    wait for these; those waiting for a later retry are left to the workers."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(
                Message.batch_id == run.id,
                col(Message.status).not_in(TERMINAL_STATUSES),
                col(Message.status) != MessageStatus.PAUSED,
                col(Message.next_attempt_at) <= utcnow(),
            )
        ).one()
    )


def unfinished(session: Session, run: BatchRun) -> int:
    """Messages of the run not finished yet, whenever they are due."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Message)
            .where(Message.batch_id == run.id, col(Message.status).not_in(TERMINAL_STATUSES))
        ).one()
    )


def finish_if_done(engine: Engine, vault: ArchiveVault, run_pk: int) -> bool:
    """Complete a fully queued run whose every message finished, with its pages counted; True if done."""
    with session_scope(read_only(engine)) as session:
        run = session.get(BatchRun, run_pk)
        if run is None or run.status != BatchStatus.QUEUED or unfinished(session, run):
            return run is not None and run.status == BatchStatus.COMPLETED
    while count_missing_pages(engine, vault, run_pk):
        pass
    with session_scope(engine) as session:
        run = session.get(BatchRun, run_pk, with_for_update=True)
        if run is not None and run.status == BatchStatus.QUEUED:
            run.status, run.finished_at = BatchStatus.COMPLETED, utcnow()
            run.updated_at = run.finished_at
    return True
