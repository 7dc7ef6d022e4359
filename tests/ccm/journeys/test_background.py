"""`ccm serve`'s background services carry journey runs on and schedule the trigger job."""

from __future__ import annotations

import time
from typing import Any

from ccm.background import BackgroundServices
from ccm.journeys.jobs import JOB_NAME
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import create, enrol, enrolment

TAG = {
    "key": "tag",
    "name": "Tag",
    "category": "transactional",
    "trigger": {"event": "go"},
    "steps": [{"id": "u", "update": {"attribute": "tagged", "value": True}}],
}


def test_background_services_run_journeys(service: Service, customer: dict[str, Any]) -> None:
    create(service, TAG)
    run_id = enrol(service, "go")
    services = BackgroundServices(service.runtime)
    services.start()
    try:
        assert services.scheduler.get_job(JOB_NAME) is not None
        deadline = time.monotonic() + 10
        while enrolment(service, run_id).status == "active" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        services.stop()
    assert not services.journey_thread.is_alive()
    assert enrolment(service, run_id).status == "completed"
