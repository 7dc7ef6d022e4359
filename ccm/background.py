"""What runs beside the API in one process (the embedded default): a worker thread and the scheduler."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler

from ccm.batches.jobs import schedule as schedule_batch_jobs
from ccm.campaigns.jobs import schedule as schedule_campaign_jobs
from ccm.communications.idempotency import purge_expired
from ccm.communications.worker import Worker
from ccm.compliance.jobs import schedule as schedule_archive_jobs
from ccm.database import session_scope
from ccm.journeys.engine import JourneyRunner
from ccm.journeys.jobs import schedule as schedule_journey_jobs
from ccm.runtime import Runtime
from ccm.scheduling import every
from ccm.webhooks.dispatch import Dispatcher
from ccm.webhooks.receipts import purge_receipts

logger = logging.getLogger(__name__)


def purge_idempotency_keys(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        removed = purge_expired(session)
    if removed:
        logger.info("purged %d expired idempotency keys", removed)


def purge_webhook_receipts(runtime: Runtime) -> None:
    """Forget inbound webhook ids past their replay window."""
    with session_scope(runtime.engine) as session:
        purge_receipts(session)


class BackgroundServices:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.stop_event = threading.Event()
        self.worker = Worker(runtime)
        self.thread = threading.Thread(target=self._run_worker, name="ccm-worker", daemon=True)
        self.dispatcher = Dispatcher(runtime.engine, runtime.settings)
        self.webhook_thread = threading.Thread(
            target=self.dispatcher.run, args=(self.stop_event,), name="ccm-webhooks", daemon=True
        )
        self.journeys = JourneyRunner(runtime.engine, runtime.settings)
        self.journey_thread = threading.Thread(
            target=self.journeys.run, args=(self.stop_event,), name="ccm-journeys", daemon=True
        )
        self.scheduler = BackgroundScheduler(timezone="UTC")
        every(self.scheduler, runtime, "purge-idempotency-keys", purge_idempotency_keys, seconds=15 * 60)
        every(self.scheduler, runtime, "purge-webhook-receipts", purge_webhook_receipts, seconds=3600)
        schedule_archive_jobs(self.scheduler, runtime)
        schedule_campaign_jobs(self.scheduler, runtime)
        schedule_batch_jobs(self.scheduler, runtime)
        schedule_journey_jobs(self.scheduler, runtime)

    def _run_worker(self) -> None:
        self.worker.run(self.stop_event)

    def start(self) -> None:
        self.thread.start()
        self.webhook_thread.start()
        self.journey_thread.start()
        self.scheduler.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.thread.join(timeout)
        self.webhook_thread.join(timeout)
        self.journey_thread.join(timeout)
