"""Queueing a run's documents, one chunk per commit: the messages and the moved checkpoint together.

Each chunk runs in three steps, as a campaign's fan-out does, so no lock is held while templates render:
1. a read-only session reads the documents after the checkpoint and plans each one under the send rules
   of any send (`plan_send`: template, customer, data contract, consent and suppression);
2. the chunk's render check runs in one render-pool call (`check_plans`) with no session open;
3. one write transaction locks the run row and goes on only if the checkpoint is still the one step 1
   read. It inserts a message per document and channel (linked to the run and the input line, unique on
   both), a failure row per refused document, and moves the checkpoint, all in one commit.
A killed run loses at most its uncommitted chunk, which the next start redoes; nothing is queued twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from ccm.batches.inputs import Document, InputError, Position, read_documents
from ccm.batches.models import BatchFailure, BatchMode, BatchRun, BatchSource, BatchStatus
from ccm.channels import deadline_seconds
from ccm.communications.models import Message
from ccm.communications.schemas import MessageCreate
from ccm.communications.service import (
    SendPlan,
    check_plans,
    message_values,
    plan_send,
    queued_event_detail,
    queued_event_values,
)
from ccm.customers.models import Customer
from ccm.customers.segments import get_segment
from ccm.customers.segments import where as segment_where
from ccm.database import read_only, session_scope, utcnow
from ccm.engagement.models import Event
from ccm.errors import ApiError
from ccm.settings import Settings

CHUNK_SIZE = 200
"""Documents per commit: large enough to amortise the commit, small enough to keep memory flat."""
FIRST_CHUNK = 25


class Step(Enum):
    COMMITTED = "committed"  # a chunk was queued and the checkpoint moved
    STALE = "stale"  # another runner moved the checkpoint meanwhile: read again from the new one
    DONE = "done"  # every document read (the run is now `queued`), or the run is not running


@dataclass
class Chunk:
    """Documents after the checkpoint as read, with the position after the last one, and their plans."""

    run: BatchRun  # as read, unlocked
    documents: list[Document]
    end: Position
    end_customer_id: int
    settings: Settings
    plans: dict[int, SendPlan] = field(default_factory=dict)
    failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    """The (code, reason) of each refused document, by its index in `documents`."""


def queue_all(engine: Engine, run_pk: int, settings: Settings, *, chunk_size: int = CHUNK_SIZE) -> int:
    """Queue chunks until the whole input is read or the run stops; returns chunks committed. The first
    chunks are small, so the run's processes have work within a second or two; then `chunk_size`."""
    chunks = 0
    while (
        step := queue_chunk(engine, run_pk, settings, min(chunk_size, FIRST_CHUNK << chunks))
    ) is not Step.DONE:
        chunks += step is Step.COMMITTED
    return chunks


def queue_chunk(engine: Engine, run_pk: int, settings: Settings, chunk_size: int = CHUNK_SIZE) -> Step:
    """Read and plan, check renders with no session open, then write with the checkpoint."""
    try:
        with session_scope(read_only(engine)) as session:
            chunk = _read(session, run_pk, settings, chunk_size)
    except (InputError, OSError, ApiError) as error:
        _fail_run(engine, run_pk, str(getattr(error, "message", error)))
        return Step.DONE
    if chunk is None:
        return Step.DONE
    _check(settings, chunk)
    with session_scope(engine) as session:
        return _commit(session, chunk)


def _read(session: Session, run_pk: int, settings: Settings, chunk_size: int) -> Chunk | None:
    run = session.get(BatchRun, run_pk)
    if run is None or run.status != BatchStatus.RUNNING:
        return None
    chunk = _documents(session, run, settings, chunk_size)
    for index, document in enumerate(chunk.documents):
        outcome = _plan(session, run, document, settings)
        if isinstance(outcome, SendPlan):
            chunk.plans[index] = outcome
        else:
            chunk.failures[index] = outcome
    return chunk


def _documents(session: Session, run: BatchRun, settings: Settings, chunk_size: int) -> Chunk:
    start = Position(run.checkpoint_offset, run.checkpoint_line)
    if run.source == BatchSource.SEGMENT:
        return _segment_documents(session, run, settings, chunk_size)
    if run.input_path is None or not Path(run.input_path).is_file():
        raise InputError(f"the input file {run.input_path} is gone; the run cannot go on")
    read = list(islice(read_documents(Path(run.input_path), BatchSource(run.source), start), chunk_size))
    end = read[-1][1] if read else start
    return Chunk(run, [document for document, _ in read], end, run.checkpoint_customer_id, settings)


def _segment_documents(session: Session, run: BatchRun, settings: Settings, chunk_size: int) -> Chunk:
    """The segment's next customers in id order (keyset after the checkpoint), with the run's shared data;
    a document's line is its place in the run."""
    assert run.segment_key is not None
    segment = get_segment(session, run.segment_key, field="segment")
    customers = session.exec(
        select(Customer.id, Customer.external_id)
        .where(col(Customer.id) > run.checkpoint_customer_id, segment_where(session, segment.rule))
        .order_by(col(Customer.id))
        .limit(chunk_size)
    ).all()
    documents = [
        Document(run.considered + place, external_id, run.data)
        for place, (_, external_id) in enumerate(customers, start=1)
    ]
    last_id = customers[-1][0] if customers else run.checkpoint_customer_id
    assert last_id is not None
    return Chunk(run, documents, Position(), last_id, settings)


def _plan(
    session: Session, run: BatchRun, document: Document, settings: Settings
) -> SendPlan | tuple[str, str]:
    """The document's send plan under the rules of every send, or the (code, reason) it is refused for."""
    if document.problem is not None:
        return document.problem
    try:
        request = MessageCreate(
            template=run.template_key,
            customer_id=document.customer_id or "",
            channels=run.channels,
            data=document.data,
        )
    except ValidationError as error:
        return "invalid_document", "; ".join(_validation_reasons(error))
    try:
        return plan_send(session, request, settings=settings, idempotency_key=None, api_key_id=None)
    except ApiError as error:
        return error.code, error.message


def _validation_reasons(error: ValidationError) -> Iterator[str]:
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        yield f"{where}: {problem['msg']}"


def _check(settings: Settings, chunk: Chunk) -> None:
    """The chunk's render check in one pool call: a document that fails it is refused with its reason."""
    indexes = list(chunk.plans)
    errors = check_plans(settings, [chunk.plans[i] for i in indexes])
    for index, error in zip(indexes, errors, strict=True):
        if error is not None:
            chunk.failures[index] = (error.code, error.message)
            del chunk.plans[index]


def _commit(session: Session, chunk: Chunk) -> Step:
    """The chunk's messages, failures and checkpoint in one transaction, if the checkpoint has not moved."""
    read = chunk.run
    run = session.get(BatchRun, read.id, with_for_update=True)
    if run is None or run.status != BatchStatus.RUNNING:
        return Step.DONE
    checkpoint = (run.considered, run.checkpoint_offset, run.checkpoint_customer_id)
    if checkpoint != (read.considered, read.checkpoint_offset, read.checkpoint_customer_id):
        return Step.STALE
    now = utcnow()
    run.updated_at = now
    if not chunk.documents:
        run.status = BatchStatus.QUEUED
        return Step.DONE
    writes = _Writes(run, chunk.settings, now)
    for index, document in enumerate(chunk.documents):
        plan = chunk.plans.get(index)
        if plan is not None:
            writes.queue(document, plan)
        else:
            writes.refuse(document, *chunk.failures[index])
    writes.insert(session)
    run.considered += len(chunk.documents)
    run.checkpoint_offset, run.checkpoint_line = chunk.end.offset, chunk.end.line
    run.checkpoint_customer_id = chunk.end_customer_id
    run.queued += len(writes.messages)
    run.refused += len(writes.failures)
    return Step.COMMITTED


@dataclass
class _Writes:
    """One chunk's rows, collected for one executemany per table (as a campaign's fan-out does)."""

    run: BatchRun  # locked
    settings: Settings
    now: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def queue(self, document: Document, plan: SendPlan) -> None:
        template, version, customer = plan.template, plan.version, plan.customer
        assert template is not None and version is not None and customer is not None
        detail = {**queued_event_detail(template, version), "batch": self.run.run_id}
        for channel in plan.channels:
            row = message_values(
                template=template,
                version=version,
                customer=customer,
                channel=channel,
                context=plan.context,
                due=self.now,
                deadline=self.now + timedelta(seconds=deadline_seconds(self.settings, channel)),
                now=self.now,
                archive_only=self.run.mode == BatchMode.ARCHIVE_ONLY,
            )
            row["batch_id"], row["batch_line"] = self.run.id, document.line
            self.messages.append(row)
            self.events.append(queued_event_values(row, detail))

    def refuse(self, document: Document, code: str, reason: str) -> None:
        self.failures.append(
            {
                "batch_id": self.run.id,
                "line": document.line,
                "customer_id": (document.customer_id or None) and document.customer_id[:255],
                "code": code[:50],
                "reason": reason,
            }
        )

    def insert(self, session: Session) -> None:
        for model, rows in ((Message, self.messages), (Event, self.events), (BatchFailure, self.failures)):
            if rows:
                _insert(session, model, rows)


def _insert(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    session.exec(insert(model), params=rows)


def _fail_run(engine: Engine, run_pk: int, error: str) -> None:
    """The input cannot be read on (gone, changed, its segment deleted): the run stops with the reason;
    what it queued goes on."""
    with session_scope(engine) as session:
        run = session.get(BatchRun, run_pk, with_for_update=True)
        if run is not None and run.status == BatchStatus.RUNNING:
            run.status, run.error, run.updated_at = BatchStatus.FAILED, error, utcnow()
