"""Erasing a customer blanks what journeys kept about them and ends their running journeys."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from ccm.database import session_scope
from ccm.journeys.models import CustomerEvent
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import INVOICE_CHASE, create, enrol, enrolment, invoice, run


def test_erasure_blanks_events_and_ends_runs(
    service: Service, customer: dict[str, Any], reminder: str
) -> None:
    create(service, INVOICE_CHASE)
    run_id = enrol(service, "invoice_issued", invoice())
    run(service)
    assert enrolment(service, run_id).correlation == "2026-001"
    assert service.client.post("/v1/customers/c-1/erase", headers=service.headers()).status_code == 200
    erased = enrolment(service, run_id)
    assert (erased.status, erased.end_reason, erased.data, erased.correlation) == (
        "exited",
        "customer_erased",
        {},
        None,
    )
    with session_scope(service.runtime.engine) as session:
        assert [e.properties for e in session.exec(select(CustomerEvent)).all()] == [{}]
    assert run(service) == 0
