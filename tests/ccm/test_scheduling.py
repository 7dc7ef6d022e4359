"""The jobs `ccm serve` schedules: each under its advisory-lock name, at its interval, one instance at a time,
a backlog of missed runs coalesced into one."""

from __future__ import annotations

from datetime import timedelta

from ccm.background import BackgroundServices
from tests.ccm.conftest import Service


def test_every_job_is_scheduled_at_its_interval(service: Service) -> None:
    settings = service.runtime.settings
    scheduler = BackgroundServices(service.runtime).scheduler
    scheduler.start(paused=True)  # jobs take the scheduler's defaults when it starts; paused, none runs
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    intervals = {name: job.trigger.interval for name, job in jobs.items()}
    assert intervals == {
        "purge-idempotency-keys": timedelta(minutes=15),
        "purge-webhook-receipts": timedelta(hours=1),
        "archive-checkpoint": timedelta(minutes=settings.archive_checkpoint_minutes),
        "archive-purge": timedelta(minutes=settings.archive_purge_interval_minutes),
        "campaign-fanout": timedelta(seconds=settings.campaign_poll_seconds),
        "journey-triggers": timedelta(seconds=settings.journey_trigger_seconds),
        "batch-runs": timedelta(seconds=settings.batch_poll_seconds),
    }
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert all(job.func.__name__ == name for name, job in jobs.items())  # the advisory lock's name
