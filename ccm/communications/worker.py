"""Outbox workers: claim due messages from the database, render, archive, hand off, record the outcome.

The database is the queue. A claim is a lease written in the same transaction that selects the rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so any number of workers in any
number of processes share one table. A worker that dies simply lets its leases expire.

Delivery is at-least-once: a crash after the provider accepted a message but before the outcome is
committed leads to a second hand-off when the lease expires.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from archive import ArchiveError
from ccm.communications.compose import compose, sender_for
from ccm.communications.models import CLAIMABLE_STATUSES, TERMINAL_STATUSES, Message, MessageStatus
from ccm.compliance.archiving import read_payload, record_archived, store_payload
from ccm.compliance.models import ArchiveEntry
from ccm.compliance.service import find_entry
from ccm.database import session_scope, utcnow
from ccm.engagement.links import EngagementLinks
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.registry.models import TemplateVersion
from ccm.runtime import Runtime
from delivery import Channel, DeliveryResult, Outcome, OutgoingMessage
from renderers.errors import RenderError

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0


class Worker:
    def __init__(self, runtime: Runtime, *, name: str | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.links = EngagementLinks(runtime.settings.base_url, runtime.tokens)

    def run(self, stop: threading.Event, *, concurrency: int = 1) -> None:
        """Claim and process until `stop` is set; sleeps only when there is nothing due."""
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ccm-send") as pool:
            while not stop.is_set():
                try:
                    claimed = self.claim(self.settings.worker_batch_size)
                except Exception:
                    logger.exception("claiming messages failed; retrying")
                    stop.wait(self.settings.worker_poll_interval * 4)
                    continue
                if not claimed:
                    stop.wait(self.settings.worker_poll_interval)
                    continue
                list(pool.map(self.process, claimed))

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

    def claim(self, limit: int) -> list[str]:
        now = utcnow()
        with session_scope(self.runtime.engine) as session:
            statement = (
                select(Message.id)
                .where(
                    col(Message.status).in_(CLAIMABLE_STATUSES),
                    col(Message.next_attempt_at) <= now,
                    or_(col(Message.lease_until).is_(None), col(Message.lease_until) < now),
                )
                .order_by(col(Message.priority), col(Message.next_attempt_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.exec(statement).all())
            if ids:
                session.exec(
                    update(Message)
                    .where(col(Message.id).in_(ids))
                    .values(
                        lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                        locked_by=self.name,
                        updated_at=now,
                    )
                )
        return ids

    def process(self, message_id: str) -> None:
        try:
            self._process(message_id)
        except Exception as error:
            logger.exception("processing message %s failed", message_id)
            self._retry_later(message_id, f"internal error: {error.__class__.__name__}: {error}", count=False)

    def _process(self, message_id: str) -> None:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is None:
                return
            entry = find_entry(session, message_id)
            version = session.get(TemplateVersion, message.template_version_id)
            assert version is not None  # a foreign key; versions are never deleted
            parts = version.parts
            if entry is None:
                message.status = MessageStatus.RENDERING
                session.add(message)
        payload = self._payload(message, parts, entry)
        if payload is None:
            return
        data, content_type = payload
        if not self._mark_sending(message_id):
            return
        provider = self.runtime.providers.for_channel(Channel(message.channel))
        outgoing = OutgoingMessage(
            message_id=message.id,
            channel=Channel(message.channel),
            recipient=message.recipient,
            sender=sender_for(message.channel, self.settings),
            payload=data,
            content_type=content_type,
            metadata={"template": message.template_key, "category": message.category},
        )
        result = provider.send(outgoing)
        self._record_result(message_id, result)

    def _owned(self, session: Session, message_id: str) -> Message | None:
        """The message if this worker still holds its lease and it still needs sending."""
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status in TERMINAL_STATUSES or message.locked_by != self.name:
            return None
        return message

    def _payload(
        self, message: Message, parts: dict[str, Any], entry: ArchiveEntry | None
    ) -> tuple[bytes, str] | None:
        """The archived bytes: read back when archived before, else rendered and archived now."""
        store = self.runtime.archive
        if entry is not None:
            try:
                return read_payload(store, entry), entry.content_type
            except ArchiveError as error:
                self._retry_later(message.id, f"archive read failed: {error}", count=False)
                return None
        try:
            composed = compose(message, parts, self.settings, self.links)
        except RenderError as error:
            self._fail(message.id, f"render failed: {error.message}")
            return None
        try:
            stored = store_payload(store, message, composed.payload, composed.content_type)
        except ArchiveError as error:
            self._retry_later(message.id, f"archive unavailable, nothing sent: {error}", count=False)
            return None
        try:
            with session_scope(self.runtime.engine) as session:
                owned = self._owned(session, message.id)
                if owned is None:
                    return None
                record_archived(session, owned, stored, store.url)
                owned.status = MessageStatus.ARCHIVED
                session.add(owned)
                record_event(
                    session,
                    customer_id=owned.customer_id,
                    type=EventType.ARCHIVED,
                    message_id=owned.id,
                    channel=owned.channel,
                    detail={"sha256": stored.sha256, "size": stored.size},
                )
        except IntegrityError:
            return None  # another worker archived it first; its lease wins
        return composed.payload, composed.content_type

    def _mark_sending(self, message_id: str) -> bool:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is None:
                return False
            message.status = MessageStatus.SENDING
            message.attempts += 1
            message.updated_at = utcnow()
            session.add(message)
        return True

    def _record_result(self, message_id: str, result: DeliveryResult) -> None:
        with session_scope(self.runtime.engine) as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is None:
                return
            message.provider = result.provider
            if result.outcome is Outcome.ACCEPTED:
                self._mark_sent(session, message, result)
            elif result.outcome is Outcome.TRANSIENT_ERROR and message.attempts < self.settings.max_attempts:
                self._schedule_retry(session, message, result.detail, count=True)
            else:
                self._mark_failed(session, message, result.detail)

    def _mark_sent(self, session: Session, message: Message, result: DeliveryResult) -> None:
        now = utcnow()
        message.status = MessageStatus.SENT
        message.provider_message_id = result.provider_message_id
        message.sent_at = now
        message.last_error = None
        self._release(session, message)
        record_event(
            session,
            customer_id=message.customer_id,
            type=EventType.SENT,
            message_id=message.id,
            channel=message.channel,
            detail={"provider": result.provider, "provider_message_id": result.provider_message_id},
        )

    def _mark_failed(self, session: Session, message: Message, reason: str) -> None:
        message.status = MessageStatus.FAILED
        message.last_error = reason
        self._release(session, message)
        record_event(
            session,
            customer_id=message.customer_id,
            type=EventType.FAILED,
            message_id=message.id,
            channel=message.channel,
            detail={"reason": reason},
        )

    def _schedule_retry(self, session: Session, message: Message, reason: str, *, count: bool) -> None:
        """Back to the queue with exponential backoff and jitter; archived bytes are reused next time."""
        attempts = max(message.attempts, 1)
        delay = min(self.settings.retry_base_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        delay *= random.uniform(0.8, 1.2)
        message.status = MessageStatus.QUEUED
        message.last_error = reason
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        self._release(session, message)
        record_event(
            session,
            customer_id=message.customer_id,
            type=EventType.RETRY,
            message_id=message.id,
            channel=message.channel,
            detail={
                "reason": reason,
                "attempt": message.attempts,
                "counted": count,
                "retry_in_s": round(delay, 1),
            },
        )

    def _release(self, session: Session, message: Message) -> None:
        message.lease_until = None
        message.locked_by = None
        message.updated_at = utcnow()
        session.add(message)

    def _retry_later(self, message_id: str, reason: str, *, count: bool) -> None:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is not None:
                self._schedule_retry(session, message, reason, count=count)

    def _fail(self, message_id: str, reason: str) -> None:
        with session_scope(self.runtime.engine) as session:
            message = self._owned(session, message_id)
            if message is not None:
                self._mark_failed(session, message, reason)
