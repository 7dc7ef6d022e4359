"""Outbox workers: claim due messages from the database, render, archive, hand off, record the outcome.

The database is the queue. A claim is a lease written in the statement that selects the rows (`UPDATE ...
WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING` the rows on PostgreSQL; SQLite serialises
writers), so any number of workers in any number of processes share one table, and the claim hands the
worker everything it reads before rendering (template versions are cached; an archive entry can only exist
for a message already attempted, so only those are looked up). A worker that dies lets its leases expire.

Per message, two writes, both through the worker's group commit (`ccm.communications.group_commit`: one
commit at a time per worker process, outcomes by a committer thread within `CCM_WORKER_COMMIT_INTERVAL_MS`):

1. the hand-off record, *urgent*: the message becomes `sending` (one attempt more) in the same transaction
   as its archive index row and its hash-chain record (`record_archived_many`). The thread waits for this
   commit before it calls the provider, exactly as before batching, so nothing is handed off unarchived
   and every hand-off a crash could repeat is on record. The thread commits it itself as soon as no other
   commit of the process runs; hand-off records of other threads that arrived meanwhile share that
   transaction (and one move of the chain head), but it never waits for one that is not there yet: a fast
   message does not wait on a slow render. An archive-only message ends here, `archived`, with no hand-off
   at all.
2. the outcome, *lazy*: `sent`, a retry, `failed` or `bounced`, with its events (and the `archived` event of
   a message rendered this attempt). The thread does not wait: it is committed at most the interval after
   it was queued (50 ms by default), sooner with a full batch or with the next hand-off record this process
   commits (then in that transaction, at no extra commit), as one UPDATE and one INSERT for all.

Why only these two may be batched: what a crash may lose must be something a retry repairs and may repeat
no more than before. A hand-off record is never deferred past its provider call (that would let a crash
hide a hand-off, and send again without the `resumed` event that accounts for it). An outcome that is
lost leaves its message `sending` under a lease that lapses; the next worker hands it off again and
records `resumed` (counted in `ccm_resumed_handoffs_total`): the window of the documented duplicate is
still one provider round trip per message, plus at most the commit interval, and it opens per message
(only a message whose own hand-off record committed can be repeated). The `archived` event rides with the
outcome (the archive row and chain record never do); a resumed hand-off writes it if the crash lost it.

Delivery is at-least-once with that one window; each message is processed in its own thread, so a batch
is a set of unrelated messages that happen to finish together, and a failed batch is retried item by
item, so one message's error never becomes another's.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import case
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from archive import ArchiveError
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import SealedPayload, find_entry, read_payload, store_payload
from ccm.archiving.vault import ArchiveVault
from ccm.channels import ComposeContext, get_channel
from ccm.channels.bounded import compose_bounded, warm_render_pool
from ccm.channels.compose import render_inputs
from ccm.communications.group_commit import GroupCommit
from ccm.communications.models import CLAIMABLE_STATUSES, TERMINAL_STATUSES, Message, MessageStatus
from ccm.communications.provider_events import suppress_recipient
from ccm.communications.records import HandOff, OutboxWrites, Outcome
from ccm.database import session_scope, utcnow
from ccm.engagement.links import EngagementLinks
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import record_message_event
from ccm.engagement.tokens import TokenSigner
from ccm.leases import claim_rows
from ccm.operations import metrics
from ccm.registry.locales import parts_for_context
from ccm.registry.models import Category, TemplateVersion
from ccm.settings import Settings
from delivery import DeliveryResult, DkimKeyring, OutgoingMessage, ProviderRoutes
from delivery import Outcome as HandOffOutcome
from renderers.errors import RenderError, RenderLimitExceeded

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
LANES = tuple(category.value for category in Category)
"""Every lane messages are queued in (a message's lane is its template's category)."""
PREFETCH = 4
"""Messages a lane holds claimed per thread, at most (Celery's prefetch multiplier, same trade-off)."""


IDLE_LANE_RECHECK = 0.1
"""Seconds a lane that had nothing due is left alone while another lane keeps the worker busy (at most ten
claims a second for it, instead of one per finished message; an idle worker waits the poll interval)."""


@dataclass(frozen=True)
class Held:
    """A message this worker holds, as its claim returned it, and its archive entry if it has one."""

    message: Message
    entry: ArchiveEntry | None


class WorkerRuntime(Protocol):
    """The long-lived parts a worker uses; the composition root's `Runtime` is one."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def archive(self) -> ArchiveVault: ...

    @property
    def providers(self) -> ProviderRoutes: ...

    @property
    def tokens(self) -> TokenSigner: ...

    @property
    def dkim(self) -> DkimKeyring | None: ...


class Worker:
    def __init__(
        self, runtime: WorkerRuntime, *, name: str | None = None, lanes: Sequence[str] | None = None
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lanes = tuple(lanes) if lanes else None
        links = EngagementLinks(runtime.settings.base_url, runtime.tokens)
        self.compose_context = ComposeContext(runtime.settings, links, runtime.dkim)
        self._versions: dict[int, TemplateVersion] = {}
        self._held: dict[str, Held] = {}
        self._idle_until: dict[str, float] = {}
        writes = OutboxWrites(self.name, runtime.archive.url)
        self.commits: GroupCommit[HandOff, Outcome] = GroupCommit(
            runtime.engine,
            writes.write,
            interval=self.settings.worker_commit_interval_ms / 1000,
            max_lazy=self.settings.worker_batch_size,
        )

    def run(self, stop: threading.Event, *, concurrency: int = 1) -> None:
        """Claim and process until `stop` is set. Each lane has its own threads (and render processes) and
        claims again while its threads are still busy, so a slow render holds up at most one claimed
        message per thread of its own lane, and never a one-time code behind a marketing render."""
        lanes = self.lanes or LANES
        warm_render_pool(self.settings, lanes)
        executors = {
            lane: ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"ccm-{lane}")
            for lane in lanes
        }
        running: dict[str, set[Future[None]]] = {lane: set() for lane in lanes}
        self.commits.start()
        try:
            while not stop.is_set():
                claimed = [self._fill(lane, executors[lane], running, concurrency) for lane in lanes]
                if max(claimed) > 0:
                    continue
                if min(claimed) < 0:  # the database is unreachable: back off
                    stop.wait(self.settings.worker_poll_interval * 4)
                else:
                    self._wait(stop, running)
        finally:
            for executor in executors.values():
                executor.shutdown(wait=True)
            self.commits.close()

    def _fill(
        self, lane: str, executor: ThreadPoolExecutor, running: dict[str, set[Future[None]]], capacity: int
    ) -> int:
        """Once a lane holds no more messages than it has threads, claim up to `PREFETCH` per thread (at
        most `worker_batch_size`): one claim statement per several messages (each is a write, and on
        SQLite every writer waits for the one before), while at most a few messages of this worker wait
        behind a slow render of their own lane. How many it claimed, -1 if claiming failed."""
        running[lane] = {future for future in running[lane] if not future.done()}
        if len(running[lane]) > capacity or time.monotonic() < self._idle_until.get(lane, 0.0):
            return 0
        free = min(PREFETCH * capacity, self.settings.worker_batch_size) - len(running[lane])
        if free <= 0:
            return 0
        try:
            claimed = self.claim(free, lanes=(lane,))
        except Exception:
            logger.exception("claiming messages failed; retrying", extra={"worker": self.name})
            return -1
        if not claimed and any(running.values()):
            self._idle_until[lane] = time.monotonic() + min(
                IDLE_LANE_RECHECK, self.settings.worker_poll_interval
            )
        running[lane].update(executor.submit(self.process, message_id) for message_id in claimed)
        return len(claimed)

    def _wait(self, stop: threading.Event, running: dict[str, set[Future[None]]]) -> None:
        """Sleep until a message finishes (its thread is free again) or the poll interval passes."""
        busy = set().union(*running.values())
        if busy:
            wait(busy, timeout=self.settings.worker_poll_interval, return_when=FIRST_COMPLETED)
        else:
            stop.wait(self.settings.worker_poll_interval)

    def run_until_idle(self, *, max_batches: int = 1000) -> int:
        """Process everything due now (tests, `ccm worker --once`); returns how many were processed, every
        outcome committed."""
        processed = 0
        self.commits.start()
        try:
            for _ in range(max_batches):
                claimed = self.claim(self.settings.worker_batch_size)
                if not claimed:
                    break
                for message_id in claimed:
                    self.process(message_id)
                processed += len(claimed)
        finally:
            self.commits.close()
        return processed

    def claim(self, limit: int, *, lanes: Sequence[str] | None = None) -> list[str]:
        """Lease up to `limit` due messages of `lanes` (default: this worker's), transactional lane first;
        the rows are kept for `process`."""
        lanes = lanes or self.lanes
        now = utcnow()
        due = [col(Message.status).in_(CLAIMABLE_STATUSES), col(Message.next_attempt_at) <= now]
        if lanes is not None:
            due.append(col(Message.lane).in_(lanes))
        rendering = case(
            (col(Message.status) == MessageStatus.QUEUED, MessageStatus.RENDERING.value),
            else_=col(Message.status),
        )
        order = [col(Message.priority), col(Message.next_attempt_at)]
        with session_scope(self.runtime.engine) as session:
            rows = claim_rows(
                session,
                Message,
                due,
                order,
                limit,
                owner=self.name,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                values={"updated_at": now, "status": rendering},
            )
            entries = self._entries(session, [row.id for row in rows if _handed_off_before(row)])
        rows.sort(key=lambda row: (row.priority, row.next_attempt_at))
        for row in rows:
            self._held[row.id] = Held(row, entries.get(row.id))
        self._prefetch_keys([row.customer_id for row in rows if row.id not in entries])
        return [row.id for row in rows]

    def _prefetch_keys(self, customer_ids: list[int]) -> None:
        """The data keys the claimed messages will be sealed with, in one transaction for the batch rather
        than one per new customer; a failure here only means each message looks its key up itself."""
        if not customer_ids:
            return
        try:
            self.runtime.archive.keyring.prefetch(customer_ids)
        except Exception:
            logger.warning("prefetching data keys failed", exc_info=True, extra={"worker": self.name})

    def _entries(self, session: Session, message_ids: list[str]) -> dict[str, ArchiveEntry]:
        """The archive entries of messages handed off before: a message never handed off has none (an entry
        is committed with the start of a hand-off), so a claim of fresh messages reads nothing more."""
        if not message_ids:
            return {}
        found = session.exec(select(ArchiveEntry).where(col(ArchiveEntry.message_id).in_(message_ids)))
        return {entry.message_id: entry for entry in found}

    def process(self, message_id: str) -> None:
        """Process one held message; on any error (database gone, a bug) requeue it, spending an attempt so
        a message that always fails the same way ends failed, or let the lease lapse."""
        try:
            self._process(message_id, self._held.pop(message_id, None))
        except Exception as error:
            logger.exception("processing failed", extra={"message_id": message_id, "worker": self.name})
            try:
                self._retry_later(
                    message_id, f"internal error: {error.__class__.__name__}: {error}", spend_attempt=True
                )
            except Exception:
                logger.warning(
                    "could not put the message back; its lease will expire and another claim will retry it",
                    extra={"message_id": message_id, "worker": self.name},
                )

    def _process(self, message_id: str, held: Held | None) -> None:
        now = utcnow()
        if held is None or held.message.lease_until is None or held.message.lease_until <= now:
            held = self._read(message_id)  # claimed elsewhere (a batch run), or held too long to trust
            if held is None:
                return
        message = held.message
        if message.deadline_at is not None and message.deadline_at <= now:
            self._fail(message_id, "deadline passed before the message could be handed off")
            return
        if message.status == MessageStatus.SENDING and not self._resume(held):
            return
        if held.entry is None:
            rendered = self._render_and_archive(message)
            if rendered is not None and not message.archive_only:
                self._hand_off(message, *rendered)
            if rendered is not None or (held := self._read(message_id)) is None or held.entry is None:
                return
            message = held.message  # archived after all (the claim could not tell): send those bytes
        payload = self._read_archived(message, held.entry)
        if payload is None or not self.commits.urgent(HandOff(message, None)):
            return
        if not message.archive_only:
            self._hand_off(message, *payload, None)

    def _read(self, message_id: str) -> Held | None:
        """A message this worker holds, read afresh, with its archive entry."""
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id, lock=False)  # the lease keeps other workers off
            if message is None:
                return None
            return Held(message, find_entry(session, message_id))

    def _resume(self, held: Held) -> bool:
        """A hand-off a dead worker left open: on record as `resumed`, with the `archived` event its lost
        outcome would have carried. False if the message is no longer this worker's."""
        message = held.message
        with session_scope(self.runtime.engine) as session:
            if self._owned(session, message.id, lock=False) is None:
                return False
            metrics.RESUMED_HANDOFFS.labels(message.channel).inc()
            detail = {"handoff_started_at": str(message.handoff_started_at), "worker": self.name}
            record_message_event(session, message, EventType.RESUMED, detail)
            if held.entry is not None and not _has_event(session, message.id, EventType.ARCHIVED):
                archived = {"sha256": held.entry.sha256, "size": held.entry.size}
                record_message_event(session, message, EventType.ARCHIVED, archived)
        return True

    def _parts(self, message: Message) -> dict[str, Any]:
        """The parts of the message's version in its customer's locale; versions are cached, since one that
        messages point at never changes."""
        version = self._versions.get(message.template_version_id)
        if version is None:
            with Session(self.runtime.engine, expire_on_commit=False) as session:
                version = session.get(TemplateVersion, message.template_version_id)
            assert version is not None  # a foreign key; versions are never deleted
            self._versions[message.template_version_id] = version
        return parts_for_context(version, message.context)

    def _owned(self, session: Session, message_id: str, *, lock: bool = True) -> Message | None:
        """The message if this worker still holds its lease and it still needs sending."""
        message = session.get(Message, message_id, with_for_update=lock)
        if message is None or message.status in TERMINAL_STATUSES or message.locked_by != self.name:
            return None
        if message.status == MessageStatus.PAUSED:  # its campaign was paused after this lease expired
            return None
        return message

    def _read_archived(self, message: Message, entry: ArchiveEntry) -> tuple[bytes, str] | None:
        """A retry sends the archived bytes again, unchanged."""
        try:
            return read_payload(self.runtime.archive, entry), entry.content_type
        except ArchiveError as error:
            self._retry_later(message.id, f"archive read failed: {error}")
            return None

    def _render_and_archive(self, message: Message) -> tuple[bytes, str, SealedPayload] | None:
        """Render, archive the exact bytes, then commit the archive records with the start of the hand-off
        (or, archive-only, the end of the message)."""
        started = time.perf_counter()
        try:
            parts = self._parts(message)
            composed = compose_bounded(self.settings, message.lane, message, parts, self.compose_context)
        except RenderLimitExceeded as error:
            self._limit_reached(message, error)
            return None
        except RenderError as error:
            self._fail(message.id, f"render failed: {error.message}")
            return None
        metrics.RENDER_SECONDS.labels(message.channel).observe(time.perf_counter() - started)
        store = self.runtime.archive
        try:
            inputs = render_inputs(self.compose_context)
            stored = store_payload(
                store, message, composed.payload, composed.content_type, render_inputs=inputs
            )
        except ArchiveError as error:
            self._retry_later(message.id, f"archive unavailable, nothing sent: {error}")
            return None
        try:
            if not self.commits.urgent(HandOff(message, stored)):
                return None
        except IntegrityError:
            return None  # another worker archived it first; its lease wins
        if message.archive_only:
            metrics.MESSAGES_FINISHED.labels(message.channel, "archived").inc()
        return composed.payload, composed.content_type, stored

    def _hand_off(
        self, message: Message, data: bytes, content_type: str, stored: SealedPayload | None
    ) -> None:
        provider = self.runtime.providers.for_message(message.channel, message.category)
        outgoing = OutgoingMessage(
            message_id=message.id,
            channel=message.channel,
            recipient=message.recipient,
            sender=get_channel(message.channel).sender(self.settings),
            payload=data,
            content_type=content_type,
            metadata={"template": message.template_key, "category": message.category},
        )
        started = time.perf_counter()
        result = provider.send(outgoing)
        metrics.count_provider_failures(result)
        elapsed = time.perf_counter() - started
        metrics.HANDOFF_SECONDS.labels(message.channel, result.provider).observe(elapsed)
        metrics.HANDOFFS.labels(message.channel, result.provider, result.outcome.value).inc()
        logger.info(
            "hand-off %s",
            result.outcome.value,
            extra={
                "message_id": message.id,
                "channel": message.channel,
                "provider": result.provider,
                "outcome": result.outcome.value,
                "worker": self.name,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        self.commits.lazy(self._outcome(message, result, stored))

    def _outcome(self, message: Message, result: DeliveryResult, stored: SealedPayload | None) -> Outcome:
        """What the hand-off ended in, as the changes to commit (the claim's row is one attempt behind)."""
        attempts = message.attempts + 1
        events: list[tuple[EventType, dict[str, Any]]] = []
        if stored is not None:
            events.append((EventType.ARCHIVED, {"sha256": stored.sha256, "size": stored.size}))
        for leg in result.failed_legs:  # providers a failover passed over before this outcome
            detail = {"provider": leg.provider, "reason": leg.reason.value, "detail": leg.detail}
            events.append((EventType.PROVIDER_FAILED, detail))
        values: dict[str, Any] = {"provider": result.provider}
        extra = None
        if result.outcome is HandOffOutcome.ACCEPTED:
            values |= self._sent(message, result, events)
        elif result.outcome is HandOffOutcome.TRANSIENT_ERROR and attempts < self.settings.max_attempts:
            values |= self._retry(message, attempts, result.detail, events)
        elif result.recipient_rejected:  # refused because of the address itself: a hard bounce
            values |= self._failed(message, result.detail, events)
            values["status"] = MessageStatus.BOUNCED.value
            bounce = {"provider": result.provider, "detail": result.detail, "bounce": "hard"}
            events.append((EventType.BOUNCED, bounce))

            def suppress(session: Session) -> None:
                suppress_recipient(
                    session, message, reason="hard_bounce", detail=result.detail, source=result.provider
                )

            extra = suppress
        else:
            values |= self._failed(message, result.detail, events)
        return Outcome(message, values, events, extra)

    def _sent(
        self, message: Message, result: DeliveryResult, events: list[tuple[EventType, dict[str, Any]]]
    ) -> dict[str, Any]:
        metrics.MESSAGES_FINISHED.labels(message.channel, "sent").inc()
        detail = {"provider": result.provider, "provider_message_id": result.provider_message_id}
        events.append((EventType.SENT, detail))
        now = utcnow()
        return {
            "status": MessageStatus.SENT.value,
            "provider_message_id": result.provider_message_id,
            "sent_at": now,
            "last_error": None,
        } | _released(now)

    def _failed(
        self, message: Message, reason: str, events: list[tuple[EventType, dict[str, Any]]]
    ) -> dict[str, Any]:
        metrics.MESSAGES_FINISHED.labels(message.channel, "failed").inc()
        events.append((EventType.FAILED, {"reason": reason}))
        return {"status": MessageStatus.FAILED.value, "last_error": reason} | _released(utcnow())

    def _retry(
        self, message: Message, attempts: int, reason: str, events: list[tuple[EventType, dict[str, Any]]]
    ) -> dict[str, Any]:
        """Back to the queue with exponential backoff and jitter, unless that passes the deadline."""
        delay = min(self.settings.retry_base_seconds * 2 ** (max(attempts, 1) - 1), MAX_BACKOFF_SECONDS)
        delay *= random.uniform(0.8, 1.2)
        now = utcnow()
        next_attempt = now + timedelta(seconds=delay)
        if message.deadline_at is not None and next_attempt >= message.deadline_at:
            return self._failed(message, f"{reason} (deadline reached, no more retries)", events)
        events.append(
            (EventType.RETRY, {"reason": reason, "attempt": attempts, "retry_in_s": round(delay, 1)})
        )
        return {
            "status": MessageStatus.QUEUED.value,
            "last_error": reason,
            "next_attempt_at": next_attempt,
        } | _released(now)

    def _retry_later(self, message_id: str, reason: str, *, spend_attempt: bool = False) -> None:
        """A problem on our side: try again later. An archive outage spends no attempt (the deadline bounds
        it); an unexplained error does, so it cannot retry for ever at attempt 0."""
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is None:
                return
            events: list[tuple[EventType, dict[str, Any]]] = []
            if spend_attempt:
                message.attempts += 1
            if spend_attempt and message.attempts >= self.settings.max_attempts:
                values = self._failed(message, f"{reason} (after {message.attempts} attempts)", events)
            else:
                values = self._retry(message, message.attempts, reason, events)
            _apply(session, message, values, events)

    def _limit_reached(self, message: Message, error: RenderLimitExceeded) -> None:
        """A render stopped at a limit fails the message, naming the limit; a wall-clock timeout may be a busy
        machine rather than the template, so it is retried once first."""
        reason = f"render_limit: {error.limit}"
        if error.limit == "timeout" and message.last_error != reason:
            self._retry_later(message.id, reason, spend_attempt=True)
        else:
            self._fail(message.id, reason)

    def _fail(self, message_id: str, reason: str) -> None:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is not None:
                events: list[tuple[EventType, dict[str, Any]]] = []
                _apply(session, message, self._failed(message, reason, events), events)


def _released(now: Any) -> dict[str, Any]:
    """The lease given back: the message is another worker's to claim (or nobody's, when final)."""
    return {"lease_until": None, "locked_by": None, "updated_at": now}


def _apply(
    session: Session, message: Message, values: dict[str, Any], events: list[tuple[EventType, dict[str, Any]]]
) -> None:
    """Write an outcome at once, in the caller's transaction (the rare paths before a hand-off)."""
    for name, value in values.items():
        setattr(message, name, value)
    session.add(message)
    for kind, detail in events:
        record_message_event(session, message, kind, detail)


def _handed_off_before(message: Message) -> bool:
    """Whether the message may have an archive entry: only a message whose hand-off once started has."""
    return message.attempts > 0 or message.handoff_started_at is not None


def _has_event(session: Session, message_id: str, kind: EventType) -> bool:
    found = session.exec(
        select(Event.id).where(col(Event.message_id) == message_id, col(Event.type) == kind).limit(1)
    ).first()
    return found is not None
