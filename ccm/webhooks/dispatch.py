"""The webhook dispatcher: claims due deliveries with a lease, POSTs them signed, records the outcome.

It follows the message worker's outbox pattern: a claim is a lease written in the transaction that selects
the rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so dispatchers in any number of processes share the
table, and one that dies lets its leases expire for another to redeliver (at-least-once; receivers drop
duplicates by `webhook-id`). Failures retry with exponential backoff and jitter; an endpoint that keeps
failing is disabled with the reason, until an admin enables it again.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import uuid
from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ccm.database import session_scope, utcnow
from ccm.leases import claim_due
from ccm.settings import Settings
from ccm.webhooks.addresses import UnsafeUrl, check_url
from ccm.webhooks.client import Attempt, make_client, post
from ccm.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from delivery.standard_webhooks import signed_headers

logger = logging.getLogger(__name__)
BACKOFF_FACTOR = 4
MAX_BACKOFF_SECONDS = 8 * 3600.0
BATCH = 20


class Dispatcher:
    def __init__(self, engine: Engine, settings: Settings, *, name: str | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:wh-{uuid.uuid4().hex[:6]}"
        self.client: httpx.Client = make_client()

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set, sleeping the poll interval whenever nothing is due."""
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once() > 0
                except Exception:
                    logger.exception("webhook dispatch failed; retrying", extra={"worker": self.name})
                    busy = False
                if not busy:
                    stop.wait(self.settings.worker_poll_interval * 2)
        finally:
            self.client.close()

    def run_once(self) -> int:
        """Claim one batch and deliver it; how many deliveries were attempted."""
        claimed = self.claim(BATCH)
        for delivery_id in claimed:
            self.process(delivery_id)
        return len(claimed)

    def run_until_idle(self, *, max_batches: int = 100) -> int:
        """Deliver everything due now (tests, `ccm worker --once`)."""
        total = 0
        for _ in range(max_batches):
            done = self.run_once()
            if not done:
                break
            total += done
        return total

    def claim(self, limit: int) -> list[str]:
        """Lease up to `limit` due deliveries of enabled endpoints, oldest due first."""
        now = utcnow()
        enabled = select(WebhookEndpoint.id).where(col(WebhookEndpoint.enabled))
        due = [
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) <= now,
            col(WebhookDelivery.endpoint_id).in_(enabled),
        ]
        with session_scope(self.engine) as session:
            ids: list[str] = claim_due(
                session,
                WebhookDelivery,
                due,
                [col(WebhookDelivery.next_attempt_at)],
                limit,
                owner=self.name,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                values={"updated_at": now},
            )
        return ids

    def process(self, delivery_id: str) -> None:
        """Send one held delivery; an unexpected error leaves the lease to expire, so it is retried."""
        try:
            self._process(delivery_id)
        except Exception:
            logger.exception("webhook delivery failed", extra={"delivery_id": delivery_id})

    def _process(self, delivery_id: str) -> None:
        with session_scope(self.engine) as session:
            held = self._owned(session, delivery_id)
            if held is None:
                return
            delivery, endpoint = held
            if not endpoint.enabled:  # disabled since the claim: hand the row back untouched
                delivery.lease_until, delivery.locked_by = None, None
                session.add(delivery)
                return
            url, secrets, payload = endpoint.url, endpoint.signing_secrets(utcnow()), delivery.payload
        attempt = self._send(delivery_id, url, secrets, json.dumps(payload).encode())
        self._record(delivery_id, attempt)

    def _owned(self, session: Session, delivery_id: str) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.locked_by != self.name or delivery.status != DeliveryStatus.PENDING:
            return None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        return None if endpoint is None else (delivery, endpoint)

    def _send(self, delivery_id: str, url: str, secrets: list[str], body: bytes) -> Attempt:
        """Check the URL again (DNS may have changed since it was saved), then POST to the checked address."""
        try:
            target = check_url(url, self.settings.webhook_allowed_hosts)
        except UnsafeUrl as error:
            return Attempt(None, f"refused: {error}")
        return post(self.client, target, body, signed_headers(secrets, delivery_id, body))

    def _record(self, delivery_id: str, attempt: Attempt) -> None:
        with session_scope(self.engine) as session:
            held = self._owned(session, delivery_id)
            if held is None:
                return
            delivery, endpoint = held
            now = utcnow()
            delivery.attempts += 1
            delivery.last_status_code = attempt.status_code
            delivery.last_error = attempt.error
            delivery.lease_until, delivery.locked_by, delivery.updated_at = None, None, now
            if attempt.ok:
                delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
            else:
                self._schedule_retry(delivery)
                self._note_failure(endpoint)
            session.add(delivery)
            session.add(endpoint)

    def _schedule_retry(self, delivery: WebhookDelivery) -> None:
        """Exponential backoff with ±20% jitter; after the last attempt the delivery fails."""
        if delivery.attempts >= self.settings.webhook_max_attempts:
            delivery.status = DeliveryStatus.FAILED
            return
        delay = self.settings.webhook_retry_base_seconds * BACKOFF_FACTOR ** (delivery.attempts - 1)
        delay = min(delay, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)

    def _note_failure(self, endpoint: WebhookEndpoint) -> None:
        """Count the failure; disable the endpoint after too many in a row or a long run of them."""
        now = utcnow()
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        settings = self.settings
        failing_for = now - endpoint.failing_since
        if endpoint.consecutive_failures >= settings.webhook_disable_after_failures:
            reason = f"disabled after {endpoint.consecutive_failures} consecutive failed deliveries"
        elif failing_for >= timedelta(hours=settings.webhook_disable_after_hours):
            reason = f"disabled: every delivery failed for {settings.webhook_disable_after_hours:g} hours"
        else:
            return
        endpoint.enabled, endpoint.disabled_reason, endpoint.updated_at = False, reason, now
        logger.warning("webhook endpoint %s %s", endpoint.id, reason)
