"""The scheduler's part in journeys: evaluate segment and date triggers (`triggers.py`)."""

from __future__ import annotations

import logging

from ccm.database import session_scope
from ccm.journeys.clock import journey_now
from ccm.journeys.triggers import evaluate
from ccm.scheduling import JobRuntime, every

logger = logging.getLogger(__name__)
JOB_NAME = "journey-triggers"


def evaluate_triggers(runtime: JobRuntime) -> int:
    """Enrol whoever entered a trigger's segment or reached a trigger's date; how many runs started."""
    with session_scope(runtime.engine) as session:
        started = evaluate(session, journey_now(runtime.settings))
    if started:
        logger.info("journey triggers started %d runs", started)
    return started


def schedule(scheduler: object, runtime: JobRuntime) -> None:
    """Add the trigger job to an APScheduler scheduler; one process at a time runs it."""
    every(
        scheduler,
        runtime,
        JOB_NAME,
        evaluate_triggers,
        seconds=runtime.settings.journey_trigger_seconds,
    )
