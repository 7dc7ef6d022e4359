"""Outbox workers: claim due messages from the database, render, archive, hand off, record the outcome.

The database is the queue. A claim is a lease written in the same transaction that selects the rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so any number of workers in any
number of processes share one table. A worker that dies simply lets its leases expire.

Each message takes three short transactions: read (and mark `rendering`), archive + mark `sending`
(the hand-off record), outcome. Rendering, archiving and the hand-off itself run outside transactions.

Delivery is at-least-once, with one documented window: a worker that dies after the provider accepted a
message but before the outcome is committed leaves it `sending`; when the lease expires the next worker
hands it off again and records a `resumed` event (counted in `ccm_resumed_handoffs_total`).
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
from sqlmodel import Session, col

from archive import ArchiveError
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import find_entry, read_payload, record_archived, store_payload
from ccm.archiving.vault import ArchiveVault
from ccm.channels import ComposeContext, get_channel
from ccm.channels.bounded import compose_bounded, warm_render_pool
from ccm.channels.compose import render_inputs
from ccm.communications.models import CLAIMABLE_STATUSES, TERMINAL_STATUSES, Message, MessageStatus
from ccm.communications.provider_events import suppress_recipient
from ccm.database import session_scope, utcnow
from ccm.engagement.links import EngagementLinks
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.engagement.tokens import TokenSigner
from ccm.leases import claim_due
from ccm.operations import metrics
from ccm.registry.locales import parts_for_context
from ccm.registry.models import Category, TemplateVersion
from ccm.settings import Settings
from delivery import DeliveryResult, DkimKeyring, Outcome, OutgoingMessage, ProviderRoutes
from renderers.errors import RenderError, RenderLimitExceeded

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
LANES = tuple(category.value for category in Category)
"""Every lane messages are queued in (a message's lane is its template's category)."""
PREFETCH = 4
"""Messages a lane holds claimed per thread, at most (Celery's prefetch multiplier, same trade-off)."""


@dataclass(frozen=True)
class Claimed:
    """What the read transaction learned about a message this worker holds."""

    message: Message
    parts: dict[str, Any]
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

    def _fill(
        self, lane: str, executor: ThreadPoolExecutor, running: dict[str, set[Future[None]]], capacity: int
    ) -> int:
        """Once a lane holds no more messages than it has threads, claim up to `PREFETCH` per thread (at
        most `worker_batch_size`): one claim transaction per several messages (each is a write, and on
        SQLite every writer waits for the one before), while at most a few messages of this worker wait
        behind a slow render of their own lane. How many it claimed, -1 if claiming failed."""
        running[lane] = {future for future in running[lane] if not future.done()}
        if len(running[lane]) > capacity:
            return 0
        free = min(PREFETCH * capacity, self.settings.worker_batch_size) - len(running[lane])
        if free <= 0:
            return 0
        try:
            claimed = self.claim(free, lanes=(lane,))
        except Exception:
            logger.exception("claiming messages failed; retrying", extra={"worker": self.name})
            return -1
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
        """Process everything due now (tests, `ccm worker --once`); returns how many were processed."""
        processed = 0
        for _ in range(max_batches):
            claimed = self.claim(self.settings.worker_batch_size)
            if not claimed:
                break
            for message_id in claimed:
                self.process(message_id)
            processed += len(claimed)
        return processed

    def claim(self, limit: int, *, lanes: Sequence[str] | None = None) -> list[str]:
        """Lease up to `limit` due messages of `lanes` (default: this worker's), transactional lane first."""
        lanes = lanes or self.lanes
        now = utcnow()
        due = [col(Message.status).in_(CLAIMABLE_STATUSES), col(Message.next_attempt_at) <= now]
        if lanes is not None:
            due.append(col(Message.lane).in_(lanes))
        rendering = case(
            (col(Message.status) == MessageStatus.QUEUED, MessageStatus.RENDERING.value),
            else_=col(Message.status),
        )
        with session_scope(self.runtime.engine) as session:
            ids: list[str] = claim_due(
                session,
                Message,
                due,
                [col(Message.priority), col(Message.next_attempt_at)],
                limit,
                owner=self.name,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                values={"updated_at": now, "status": rendering},
            )
        return ids

    def process(self, message_id: str) -> None:
        """Process one held message; on any error (database gone, a bug) requeue it, spending an attempt so
        a message that always fails the same way ends failed, or let the lease lapse."""
        try:
            self._process(message_id)
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

    def _process(self, message_id: str) -> None:
        claimed = self._read(message_id)
        if claimed is None:
            return
        message = claimed.message
        if claimed.entry is not None:
            payload = self._read_archived(message, claimed.entry)
            if payload is None or not self._mark_sending(message_id):
                return
        else:
            payload = self._render_and_archive(message, claimed.parts)
            if payload is None:
                return
        self._hand_off(message, *payload)

    def _read(self, message_id: str) -> Claimed | None:
        """Load a held message; fail it when its deadline passed; note a hand-off a dead worker left open."""
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id, lock=False)  # the lease keeps other workers off
            if message is None:
                return None
            now = utcnow()
            if message.deadline_at is not None and message.deadline_at <= now:
                self._mark_failed(session, message, "deadline passed before the message could be handed off")
                return None
            if message.status == MessageStatus.SENDING:
                metrics.RESUMED_HANDOFFS.labels(message.channel).inc()
                record_message_event(
                    session,
                    message,
                    EventType.RESUMED,
                    {"handoff_started_at": str(message.handoff_started_at), "worker": self.name},
                )
            entry = find_entry(session, message_id)
            return Claimed(message, self._parts(session, message), entry)

    def _parts(self, session: Session, message: Message) -> dict[str, Any]:
        """The parts of the message's version in its customer's locale; versions are cached, since one that
        messages point at never changes."""
        version = self._versions.get(message.template_version_id)
        if version is None:
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

    def _render_and_archive(self, message: Message, parts: dict[str, Any]) -> tuple[bytes, str] | None:
        """Render, archive the exact bytes, then record both and the start of the hand-off in one commit."""
        started = time.perf_counter()
        try:
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
            with session_scope(self.runtime.engine) as session:
                owned = self._owned(session, message.id)
                if owned is None:
                    return None
                record_message_event(
                    session, owned, EventType.ARCHIVED, {"sha256": stored.sha256, "size": stored.size}
                )
                self._start_handoff(session, owned)
                # last: the chain append locks the chain head until this commit, so keep that short
                record_archived(session, owned, stored, store.url)
        except IntegrityError:
            return None  # another worker archived it first; its lease wins
        return composed.payload, composed.content_type

    def _mark_sending(self, message_id: str) -> bool:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is None:
                return False
            self._start_handoff(session, message)
        return True

    def _start_handoff(self, session: Session, message: Message) -> None:
        """The hand-off record: committed before the provider is called."""
        now = utcnow()
        message.status = MessageStatus.SENDING
        message.attempts += 1
        message.handoff_started_at = now
        message.updated_at = now
        session.add(message)

    def _hand_off(self, message: Message, data: bytes, content_type: str) -> None:
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
        self._record_result(message.id, result)

    def _record_result(self, message_id: str, result: DeliveryResult) -> None:
        with session_scope(self.runtime.engine) as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is None:
                return
            for leg in result.failed_legs:  # providers a failover passed over before this outcome
                detail = {"provider": leg.provider, "reason": leg.reason.value, "detail": leg.detail}
                record_message_event(session, message, EventType.PROVIDER_FAILED, detail)
            message.provider = result.provider
            if result.outcome is Outcome.ACCEPTED:
                self._mark_sent(session, message, result)
            elif result.outcome is Outcome.TRANSIENT_ERROR and message.attempts < self.settings.max_attempts:
                self._schedule_retry(session, message, result.detail)
            elif result.recipient_rejected:
                self._mark_bounced(session, message, result)
            else:
                self._mark_failed(session, message, result.detail)

    def _mark_bounced(self, session: Session, message: Message, result: DeliveryResult) -> None:
        """Refused at hand-off because of the address itself: a hard bounce, and the address is suppressed."""
        self._mark_failed(session, message, result.detail)
        message.status = MessageStatus.BOUNCED
        session.add(message)
        record_message_event(
            session,
            message,
            EventType.BOUNCED,
            {"provider": result.provider, "detail": result.detail, "bounce": "hard"},
        )
        suppress_recipient(
            session, message, reason="hard_bounce", detail=result.detail, source=result.provider
        )

    def _mark_sent(self, session: Session, message: Message, result: DeliveryResult) -> None:
        message.status = MessageStatus.SENT
        message.provider_message_id = result.provider_message_id
        message.sent_at = utcnow()
        message.last_error = None
        self._release(session, message)
        metrics.MESSAGES_FINISHED.labels(message.channel, "sent").inc()
        record_message_event(
            session,
            message,
            EventType.SENT,
            {"provider": result.provider, "provider_message_id": result.provider_message_id},
        )

    def _mark_failed(self, session: Session, message: Message, reason: str) -> None:
        message.status = MessageStatus.FAILED
        message.last_error = reason
        self._release(session, message)
        metrics.MESSAGES_FINISHED.labels(message.channel, "failed").inc()
        record_message_event(session, message, EventType.FAILED, {"reason": reason})

    def _schedule_retry(self, session: Session, message: Message, reason: str) -> None:
        """Back to the queue with exponential backoff and jitter, unless that passes the deadline."""
        attempts = max(message.attempts, 1)
        delay = min(self.settings.retry_base_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        delay *= random.uniform(0.8, 1.2)
        next_attempt = utcnow() + timedelta(seconds=delay)
        if message.deadline_at is not None and next_attempt >= message.deadline_at:
            self._mark_failed(session, message, f"{reason} (deadline reached, no more retries)")
            return
        message.status = MessageStatus.QUEUED
        message.last_error = reason
        message.next_attempt_at = next_attempt
        self._release(session, message)
        record_message_event(
            session,
            message,
            EventType.RETRY,
            {"reason": reason, "attempt": message.attempts, "retry_in_s": round(delay, 1)},
        )

    def _release(self, session: Session, message: Message) -> None:
        message.lease_until = None
        message.locked_by = None
        message.updated_at = utcnow()
        session.add(message)

    def _retry_later(self, message_id: str, reason: str, *, spend_attempt: bool = False) -> None:
        """A problem on our side: try again later. An archive outage spends no attempt (the deadline bounds
        it); an unexplained error does, so it cannot retry for ever at attempt 0."""
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is None:
                return
            if spend_attempt:
                message.attempts += 1
                if message.attempts >= self.settings.max_attempts:
                    self._mark_failed(session, message, f"{reason} (after {message.attempts} attempts)")
                    return
            self._schedule_retry(session, message, reason)

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
                self._mark_failed(session, message, reason)
