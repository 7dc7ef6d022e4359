"""The scheduler's part in campaigns: find campaigns whose fan-out is due and run them."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from ccm.campaigns.fanout import fan_out
from ccm.campaigns.models import FANNING_OUT, Campaign
from ccm.database import session_scope, utcnow
from ccm.scheduling import JobRuntime, every

logger = logging.getLogger(__name__)
JOB_NAME = "campaign-fanout"


def fan_out_due(runtime: JobRuntime) -> int:
    """Fan out every scheduled or interrupted campaign whose time has come; returns batches run."""
    with session_scope(runtime.engine) as session:
        ids = session.exec(
            select(Campaign.id)
            .where(col(Campaign.status).in_(FANNING_OUT), col(Campaign.fanout_at) <= utcnow())
            .order_by(col(Campaign.fanout_at))
        ).all()
    batches = 0
    for campaign_id in ids:
        assert campaign_id is not None
        batches += fan_out(
            runtime.engine, campaign_id, runtime.settings, batch_size=runtime.settings.campaign_batch_size
        )
        logger.info("campaign fan-out ran", extra={"campaign_id": campaign_id})
    return batches


def schedule(scheduler: object, runtime: JobRuntime) -> None:
    """Add the fan-out job to an APScheduler scheduler; one process at a time runs it."""
    every(
        scheduler,
        runtime,
        JOB_NAME,
        fan_out_due,
        seconds=runtime.settings.campaign_poll_seconds,
    )
